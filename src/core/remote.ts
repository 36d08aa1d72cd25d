/**
 * The contract between the code that knows what to run (facts, steps) and the code that knows
 * how to reach a host (ssh). Steps never import ssh: they get a Remote.
 */

/** One result shape for success and failure (after execa). */
export interface CommandResult {
  host: string;
  command: string;
  /** Exit code; null when the remote process died of a signal or the channel broke. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface ExecOptions {
  /** Run through `sudo -n` (become). Ignored when already connected as root. */
  sudo?: boolean;
  /** Kill the remote process and reject with TimeoutError after this long. */
  timeoutMs?: number;
  /** Written to the command's stdin, then stdin is closed. */
  stdin?: string | Buffer;
  /** Resolve with the result instead of rejecting when the exit code is not 0. */
  allowFailure?: boolean;
  /** Called with each chunk of output as it arrives (for `hardfleet run`). */
  onData?: (stream: 'stdout' | 'stderr', chunk: string) => void;
}

export interface WriteFileOptions {
  /** Octal mode as a number, e.g. 0o600. */
  mode: number;
  owner?: string;
  group?: string;
  sudo?: boolean;
}

export interface Remote {
  /** Inventory name of the host. */
  readonly name: string;
  /** Run a POSIX shell command line. The caller quotes every value (see core/shell.ts). */
  exec(command: string, options?: ExecOptions): Promise<CommandResult>;
  /** Write a file atomically: temp file in the same directory, mode and owner set, then rename. */
  writeFile(path: string, content: string | Buffer, options: WriteFileOptions): Promise<void>;
}
