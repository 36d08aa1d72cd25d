/**
 * The command lines the SSH layer wraps around the caller's command. Pure, so the quoting can be
 * tested without a host.
 */
import { posix } from 'node:path';
import type { WriteFileOptions } from '../core/remote.js';
import { shq } from '../core/shell.js';

/** First line of stderr of every wrapped command: the pid (= process group) to kill on timeout. */
export const PID_MARKER = 'HFPID:';

export type Become = 'none' | 'nopasswd' | 'password';

/**
 * `exec sh -c` replaces the login shell, so `$$` is the session leader sshd created and its
 * process group holds everything the command starts: `kill -- -PID` reaches all of it.
 * sudo never prompts: `-n` fails fast, `-S -p ''` reads the password from stdin.
 */
export function wrapCommand(command: string, become: Become): string {
  let inner = command;
  if (become === 'nopasswd') inner = `exec sudo -n -- sh -c ${shq(command)}`;
  if (become === 'password') inner = `exec sudo -S -p '' -- sh -c ${shq(command)}`;
  return `exec sh -c ${shq(`echo "${PID_MARKER}$$" >&2\n${inner}`)}`;
}

/**
 * Best-effort kill of a timed-out command's process group: TERM, then KILL; done at once when
 * the group is gone already. (dash's kill has no `--`.)
 */
export function killCommand(pid: number): string {
  if (!Number.isInteger(pid) || pid <= 1) throw new RangeError(`not a process group to kill: ${pid}`);
  return `kill -TERM -${pid} 2>/dev/null || exit 0; sleep 1; kill -KILL -${pid} 2>/dev/null; true`;
}

/**
 * Atomic write, content on stdin: a temp file in the target directory (same filesystem, so the
 * rename is atomic), private from birth (umask 077), mode and owner set before it is renamed
 * into place. The temp file is removed on any failure.
 */
export function writeFileCommand(path: string, options: WriteFileOptions): string {
  const template = posix.join(posix.dirname(path), '.hardfleet.XXXXXX');
  const mode = options.mode.toString(8).padStart(4, '0');
  const owner = options.owner ?? '';
  const group = options.group ? `:${options.group}` : '';
  const steps = ['cat > "$tmp"', `chmod ${shq(mode)} "$tmp"`];
  if (owner || group) steps.push(`chown ${shq(owner + group)} "$tmp"`);
  steps.push(`mv -f "$tmp" ${shq(path)}`);
  return `umask 077; tmp=$(mktemp ${shq(template)}) || exit 1; ${steps.join(' && ')} || { rc=$?; rm -f "$tmp"; exit $rc; }`;
}

/** sudo's own complaints, told apart from the command's failures. */
export function sudoFailure(stderr: string): 'password-required' | 'wrong-password' | 'not-allowed' | undefined {
  if (/sudo: (a password is required|a terminal is required|no tty present)/.test(stderr)) return 'password-required';
  if (/sudo: \d+ incorrect password attempts?|Sorry, try again/.test(stderr)) return 'wrong-password';
  if (/is not in the sudoers file|is not allowed to (run|execute)/.test(stderr)) return 'not-allowed';
  return undefined;
}
