/** Error text and exit codes for the operator. 1: bad input, nothing ran; 2: hosts failed. */
import { HardfleetError, HostError, InputError } from '../core/errors.js';

export function formatError(e: unknown): string {
  if (e instanceof InputError) return `error: ${e.where ? `${e.where}: ` : ''}${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}`;
  if (e instanceof HostError) return `error: ${e.host}: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}`;
  if (e instanceof HardfleetError) return `error: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}`;
  if (e instanceof Error) return `error: ${e.message}`;
  return `error: ${String(e)}`;
}

export function exitCodeFor(e: unknown): number {
  if (e instanceof InputError) return 1;
  if (e instanceof HostError) return 2;
  return 1;
}
