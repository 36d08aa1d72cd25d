/** Quote a value for a POSIX shell: the only way inventory or playbook values reach a command. */
export function shq(value: string | number): string {
  const s = String(value);
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Build a command line from an argv, quoting each word. */
export function argv(...words: Array<string | number>): string {
  return words.map(shq).join(' ');
}
