/**
 * Ansible's host ranges in inventory keys: `web[01:03].example.com` is web01..web03 (leading
 * zeros keep their width), `db-[a:c]` is db-a..db-c, `[1:9:2]` steps by 2.
 */
const RANGE = /\[([0-9]+|[a-z]):([0-9]+|[a-z])(?::([0-9]+))?\]/i;

/** The host names a key stands for, in order; `null` when the range is malformed. */
export function expandHostRange(key: string): string[] | null {
  const m = RANGE.exec(key);
  if (!m) return [key];
  const [whole, from, to, stepText] = m;
  const step = stepText === undefined ? 1 : Number(stepText);
  const numeric = /^\d+$/.test(from);
  if (step < 1 || numeric !== /^\d+$/.test(to)) return null;
  const items: string[] = [];
  if (numeric) {
    const width = from.length > 1 && from.startsWith('0') ? from.length : 0;
    const a = Number(from);
    const b = Number(to);
    if (b < a) return null;
    for (let i = a; i <= b; i += step) items.push(String(i).padStart(width, '0'));
  } else {
    const a = from.charCodeAt(0);
    const b = to.charCodeAt(0);
    if (b < a) return null;
    for (let i = a; i <= b; i += step) items.push(String.fromCharCode(i));
  }
  const head = key.slice(0, m.index);
  const tail = key.slice(m.index + whole.length);
  const out: string[] = [];
  for (const item of items) {
    const rest = expandHostRange(tail);
    if (!rest) return null;
    for (const r of rest) out.push(head + item + r);
  }
  return out;
}
