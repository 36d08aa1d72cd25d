/**
 * The operator's input files (inventories, playbooks, vars, ssh_config) are read through here: a
 * regular file of a sane size, or an error that says why. /dev/zero or a FIFO given by mistake
 * must not hang the tool or exhaust its memory.
 */
import { readFileSync, statSync } from 'node:fs';

/** Larger than any inventory of thousands of hosts; far smaller than what would hurt. */
export const MAX_INPUT_BYTES = 32 * 1024 * 1024;

/** The text of `path`; throws an Error whose message says what is wrong with it. */
export function readInputFile(path: string): string {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message);
  }
  if (st.isDirectory()) throw new Error('a directory, not a file');
  if (!st.isFile()) throw new Error('not a regular file');
  if (st.size > MAX_INPUT_BYTES) throw new Error(`${(st.size / 2 ** 20).toFixed(0)} MiB, more than the ${MAX_INPUT_BYTES / 2 ** 20} MiB an input file may hold`);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'EACCES' ? 'permission denied' : (e as Error).message);
  }
}
