/** Command-line words as the operator typed them, made fit for yargs. */

/** Options whose value may be `-` (stdout). */
const DASH_VALUED = new Set(['--json']);

/**
 * yargs never takes a lone `-` as an option's value: `--json -` would leave `-` behind as a
 * positional (a host pattern, or an "Unknown argument" under strict). Join it to its option,
 * as `--json=-`. Words after `--` belong to the remote command and are left alone.
 */
export function joinDashValues(words: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '--') return out.concat(words.slice(i));
    if (DASH_VALUED.has(w) && words[i + 1] === '-') {
      out.push(`${w}=-`);
      i++;
    } else {
      out.push(w);
    }
  }
  return out;
}
