/** Running programs on the lab machine itself (never on a lab host: see console.ts for that). */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class LocalCommandError extends Error {
  constructor(readonly argv: string[], readonly result: RunResult) {
    super(`${argv.join(' ')}: exit ${result.code}: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    this.name = 'LocalCommandError';
  }
}

export interface RunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  cwd?: string;
  /** Pass output straight through (for long builds the operator should watch). */
  inherit?: boolean;
}

export function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', opts.inherit ? 'inherit' : 'pipe', opts.inherit ? 'inherit' : 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    child.on('error', (e) => reject(new LocalCommandError(argv, { code: null, stdout, stderr: String(e) })));
    child.on('close', (code) => {
      const result = { code, stdout, stderr };
      if (code !== 0 && !opts.allowFailure) reject(new LocalCommandError(argv, result));
      else resolve(result);
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** True when a process with this PID exists and its command line contains `marker`. */
export function processMatches(pid: number | undefined, marker: string): boolean {
  if (!pid) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(marker);
  } catch {
    return false;
  }
}

/** A running process (a zombie is dead: only its exit status is left for its parent). */
export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !isZombie(pid);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait for `pid` to exit, up to `ms`. Returns true when it is gone. */
export async function waitExit(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

function isZombie(pid: number): boolean {
  try {
    return / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ''));
  } catch {
    return true;
  }
}
