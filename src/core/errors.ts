/**
 * Typed errors. Each carries what the operator needs to act: the host or the file and line, and
 * a hint. Only the CLI formats them and picks exit codes.
 */
import type { CommandResult } from './remote.js';

export class HardfleetError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad operator input: nothing ran. `file` and `line` point at the offending place. */
export class InputError extends HardfleetError {
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
    hint?: string,
  ) {
    super(message, hint);
  }
  get where(): string {
    if (!this.file) return '';
    return this.line ? `${this.file}:${this.line}` : this.file;
  }
}
export class InventoryError extends InputError {}
export class PlaybookError extends InputError {}
export class UsageError extends InputError {}

/** Trouble with one host. `host` is the inventory name. */
export class HostError extends HardfleetError {
  constructor(readonly host: string, message: string, hint?: string) {
    super(message, hint);
  }
}
export class HostUnreachableError extends HostError {}
export class AuthFailedError extends HostError {}
export class HostKeyUnknownError extends HostError {}
export class HostKeyMismatchError extends HostError {}
export class TimeoutError extends HostError {}

export class RemoteCommandError extends HostError {
  constructor(readonly result: CommandResult, what?: string) {
    const why = result.code === null ? `killed (${result.signal ?? 'channel closed'})` : `exit ${result.code}`;
    const err = result.stderr.trim().split('\n').slice(-3).join(' | ');
    super(result.host, `${what ?? commandLabel(result.command)}: ${why}${err ? `: ${err}` : ''}`);
  }
}

/** A command as an error names it: its first line, shortened; a whole script is no message. */
export function commandLabel(command: string): string {
  const lines = command.trim().split('\n');
  const first = lines[0]!.length > 100 ? `${lines[0]!.slice(0, 99)}…` : lines[0]!;
  return lines.length > 1 ? `${first} … (a script of ${lines.length} lines)` : first;
}

/** Unreachable-like errors: the host could not be talked to at all. */
export function isUnreachable(e: unknown): boolean {
  return e instanceof HostUnreachableError || (e instanceof TimeoutError && /connect/i.test(e.message));
}
