/** Pure reading and writing of sshd_config text: where our settings must go to take effect. */

export const MAIN = '/etc/ssh/sshd_config';
export const DROPIN_DIR = '/etc/ssh/sshd_config.d';
export const DROPIN = `${DROPIN_DIR}/00-hardfleet.conf`;
const BEGIN = '# BEGIN hardfleet';
const END = '# END hardfleet';

export interface Directive {
  /** As written in the file, e.g. PermitRootLogin. */
  name: string;
  values: string[];
}

function keyOf(line: string): string | null {
  const t = line.trim();
  if (t === '' || t.startsWith('#')) return null;
  return t.split(/[\s=]+/)[0]!.toLowerCase();
}

function isMatch(line: string): boolean {
  return keyOf(line) === 'match';
}

/** Does this Include line pull in /etc/ssh/sshd_config.d/*.conf (absolute or relative to /etc/ssh)? */
function includesDropins(line: string): boolean {
  if (keyOf(line) !== 'include') return false;
  return line.trim().split(/\s+/).slice(1).some((p) => {
    const abs = p.startsWith('/') ? p : `/etc/ssh/${p}`;
    return abs === `${DROPIN_DIR}/*.conf` || abs === `${DROPIN_DIR}/*`;
  });
}

function withoutManagedBlock(content: string): string {
  const lines = content.split('\n');
  const b = lines.indexOf(BEGIN);
  const e = lines.indexOf(END);
  if (b < 0 || e < b) return content;
  lines.splice(b, e - b + 1);
  return lines.join('\n');
}

/**
 * sshd keeps the first value it reads for most keywords. A drop-in sorting first only wins when the
 * main file includes sshd_config.d before any Match block and before it sets any of `keys` itself.
 */
export function dropinWins(main: string, keys: string[]): boolean {
  const lines = withoutManagedBlock(main).split('\n');
  for (const line of lines) {
    if (includesDropins(line)) return true;
    const k = keyOf(line);
    if (k === 'match' || (k !== null && keys.includes(k))) return false;
  }
  return false;
}

export function renderDirectives(directives: Directive[]): string[] {
  return directives.flatMap((d) => d.values.map((v) => `${d.name} ${v}`));
}

export function renderDropin(directives: Directive[]): string {
  return [
    '# Managed by hardfleet. sshd keeps the first value it reads; this file sorts first in sshd_config.d.',
    ...renderDirectives(directives),
    '',
  ].join('\n');
}

/** Our settings as a managed block at the top of the main file: before any Match block and first read. */
export function withManagedBlock(main: string, directives: Directive[]): string {
  const rest = withoutManagedBlock(main);
  return [BEGIN, ...renderDirectives(directives), END, rest].join('\n');
}

/** Comment out global Port lines (ours are elsewhere; sshd would listen on every Port it reads). */
export function commentOutPorts(content: string): string {
  let global = true;
  let inBlock = false;
  return content.split('\n').map((line) => {
    if (line === BEGIN) inBlock = true;
    if (line === END) inBlock = false;
    if (isMatch(line)) global = false;
    if (global && !inBlock && keyOf(line) === 'port') return `# ${line.trim()}  # hardfleet: port set by hardfleet`;
    return line;
  }).join('\n');
}

export interface MatchBlock {
  header: string;
  directives: Record<string, string>;
}

export function matchBlocks(content: string): MatchBlock[] {
  const out: MatchBlock[] = [];
  let cur: MatchBlock | null = null;
  for (const line of content.split('\n')) {
    const k = keyOf(line);
    if (k === null) continue;
    if (k === 'match') {
      cur = { header: line.trim(), directives: {} };
      out.push(cur);
    } else if (cur) {
      const value = line.trim().split(/[\s=]+/).slice(1).join(' ');
      cur.directives[k] ??= value.toLowerCase();
    }
  }
  return out;
}

/** Files sshd reads from the drop-in directory before ours (glob order is byte order). */
export function dropinsBefore(paths: string[]): string[] {
  return paths.filter((p) => p.startsWith(`${DROPIN_DIR}/`) && p !== DROPIN && Buffer.compare(Buffer.from(p), Buffer.from(DROPIN)) < 0);
}

/** Global directives a file sets (outside Match blocks). */
export function globalKeys(content: string): Set<string> {
  const out = new Set<string>();
  for (const line of content.split('\n')) {
    const k = keyOf(line);
    if (k === 'match') break;
    if (k) out.add(k);
  }
  return out;
}
