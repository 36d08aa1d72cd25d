/** Pure parsers, one per section of the facts script's output. */
import type {
  ChainState, FileStat, FilterTable, ListenSocket, OpensshInfo, OsInfo, SystemdSocket, UnitState, UserEntry,
} from './types.js';

export interface Section {
  name: string;
  arg: string;
  body: string;
}

const MARKER = /^@@HF:([a-z0-9-]+)(?: (.*))?@@$/;

/** Split the script's output on `@@HF:name arg@@` lines. Text before the first marker is dropped. */
export function parseSections(output: string): Section[] {
  const out: Section[] = [];
  let cur: { name: string; arg: string; lines: string[] } | null = null;
  const flush = () => {
    if (!cur) return;
    // The marker is printed with a leading newline: drop the blank line it leaves.
    const lines = cur.lines;
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    out.push({ name: cur.name, arg: cur.arg, body: lines.length ? lines.join('\n') + '\n' : '' });
  };
  for (const line of output.split('\n')) {
    const m = MARKER.exec(line);
    if (m) {
      flush();
      cur = { name: m[1]!, arg: m[2] ?? '', lines: [] };
    } else if (cur) {
      cur.lines.push(line);
    }
  }
  flush();
  return out;
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

function unquote(v: string): string {
  const m = /^(["'])(.*)\1$/.exec(v);
  return m ? m[2]!.replace(/\\(["$`\\])/g, '$1') : v;
}

export function parseOsRelease(text: string): OsInfo {
  const kv: Record<string, string> = {};
  for (const l of lines(text)) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(l);
    if (m) kv[m[1]!] = unquote(m[2]!);
  }
  return {
    id: (kv.ID ?? 'unknown').toLowerCase(),
    idLike: (kv.ID_LIKE ?? '').toLowerCase().split(/\s+/).filter(Boolean),
    versionId: kv.VERSION_ID ?? '',
    prettyName: kv.PRETTY_NAME ?? kv.NAME ?? '',
  };
}

export function parseOpensshVersion(text: string): OpensshInfo | null {
  const m = /OpenSSH_(\d+)\.(\d+)(p\d+)?/.exec(text);
  if (!m) return null;
  return { version: m[0], major: Number(m[1]), minor: Number(m[2]) };
}

/** `sshd -T`: "key value..." lines; keys lowercase; repeated keys accumulate. */
export function parseSshdT(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const l of lines(text)) {
    const i = l.search(/\s/);
    const key = (i < 0 ? l : l.slice(0, i)).toLowerCase();
    const value = i < 0 ? '' : l.slice(i).trim();
    (out[key] ??= []).push(value);
  }
  return out;
}

/** `systemctl is-active`/`is-enabled` per unit: "unit active enabled"; empty states mean unknown to systemd. */
export function parseUnits(text: string): Record<string, UnitState> {
  const out: Record<string, UnitState> = {};
  for (const l of lines(text)) {
    const [unit, active, enabled] = l.split(/\s+/);
    if (!unit) continue;
    out[unit] = { active: active || 'inactive', enabled: enabled || 'not-found' };
  }
  return out;
}

export function parseSelinux(text: string): 'enforcing' | 'permissive' | 'disabled' | null {
  const v = text.trim().toLowerCase();
  return v === 'enforcing' || v === 'permissive' || v === 'disabled' ? v : null;
}

/** `semanage port -l | grep ^ssh_port_t`: "ssh_port_t   tcp   22, 2222". */
export function parseSelinuxPorts(text: string): number[] {
  const out: number[] = [];
  for (const l of lines(text)) {
    const m = /^ssh_port_t\s+tcp\s+(.*)$/.exec(l);
    if (m) for (const p of m[1]!.split(/[,\s]+/)) if (/^\d+$/.test(p)) out.push(Number(p));
  }
  return out;
}

export function parseIptablesVariant(text: string): 'nft' | 'legacy' | null {
  if (!/iptables v\d/.test(text)) return null;
  return /nf_tables/.test(text) ? 'nft' : 'legacy';
}

/** `iptables-save -t filter`: chains with policies and their rules in order. */
export function parseIptablesSave(text: string): FilterTable | null {
  const chains: Record<string, ChainState> = {};
  let inFilter = false;
  let seen = false;
  for (const l of lines(text)) {
    if (l.startsWith('#')) continue;
    if (l.startsWith('*')) {
      inFilter = l === '*filter';
      seen ||= inFilter;
      continue;
    }
    if (!inFilter) continue;
    if (l === 'COMMIT') continue;
    const c = /^:(\S+) (\S+)/.exec(l);
    if (c) {
      chains[c[1]!] = { policy: c[2] === '-' ? null : c[2]!, rules: [] };
      continue;
    }
    const r = /^-A (\S+) /.exec(l);
    if (r) (chains[r[1]!] ??= { policy: null, rules: [] }).rules.push(l);
  }
  return seen ? { chains } : null;
}

/** `ip -o route show default` lines → the interfaces ("dev eth0"). */
export function parseDefaultRoutes(text: string): string[] {
  const out = new Set<string>();
  for (const l of lines(text)) {
    const m = /\bdev (\S+)/.exec(l);
    if (m) out.add(m[1]!);
  }
  return [...out];
}

export function parseDockerVersion(text: string): string | null {
  const m = /version v?(\d+\.\d+(?:\.\d+)?)/i.exec(text);
  return m ? m[1]! : null;
}

/** dockerd argv words after the binary, from `systemctl show -p ExecStart --value` and /proc cmdlines. */
export function parseDockerdFlags(execStart: string, cmdlines: string): string[] {
  // Whole command lines are deduplicated, never words: `-H fd:// -H tcp://…` repeats its flag.
  const argvs = new Map<string, string[]>();
  for (const m of execStart.matchAll(/argv\[\]=([^;]*)/g)) argvs.set(argvWords(m[1]!).join(' '), argvWords(m[1]!));
  for (const l of lines(cmdlines)) argvs.set(argvWords(l).join(' '), argvWords(l));
  return [...argvs.values()].flat();
}

function argvWords(cmd: string): string[] {
  const w = cmd.trim().split(/\s+/).filter(Boolean);
  const i = w.findIndex((x) => /(^|\/)dockerd$/.test(x));
  return i < 0 ? [] : w.slice(i + 1);
}

/** "0.0.0.0:22", "[::]:22", "*:22", "127.0.0.53%lo:53" → address and port. */
function splitHostPort(s: string): { address: string; port: number } | null {
  const i = s.lastIndexOf(':');
  if (i < 0) return null;
  const port = Number(s.slice(i + 1));
  if (!Number.isInteger(port)) return null;
  const address = s.slice(0, i).replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  return { address, port };
}

/** `ss -Hltnup`: "tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=812,fd=3))". */
export function parseSs(text: string, pidUnits: Map<number, string> = new Map()): ListenSocket[] {
  const out: ListenSocket[] = [];
  for (const l of lines(text)) {
    const w = l.split(/\s+/);
    const proto = w[0];
    if (proto !== 'tcp' && proto !== 'udp') continue;
    const hp = splitHostPort(w[4] ?? '');
    if (!hp) continue;
    const processes = [...l.matchAll(/\("([^"]+)",pid=(\d+),/g)].map((m) => ({ name: m[1]!, pid: Number(m[2]) }));
    const units = [...new Set(processes.map((p) => pidUnits.get(p.pid)).filter((u): u is string => !!u))];
    out.push({ proto, ...hp, processes, units });
  }
  return out;
}

/** "PID <cgroup line>" → the systemd unit owning each pid (cgroup v2 "0::" or v1 "name=systemd"). */
export function parsePidCgroups(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const l of lines(text)) {
    const m = /^(\d+) \d+:([^:]*):(.*)$/.exec(l);
    if (!m) continue;
    if (m[2] !== '' && m[2] !== 'name=systemd') continue;
    const unit = m[3]!.split('/').reverse().find((c) => /\.(service|socket|scope)$/.test(c));
    if (unit) out.set(Number(m[1]), unit);
  }
  return out;
}

/** `systemctl list-sockets --no-legend`: "LISTEN UNIT ACTIVATES"; LISTEN may contain spaces for some kinds. */
export function parseSystemdSockets(text: string): SystemdSocket[] {
  const out: SystemdSocket[] = [];
  for (const l of lines(text)) {
    const w = l.split(/\s+/);
    if (w.length < 3) continue;
    const activates = w[w.length - 1]!;
    const unit = w[w.length - 2]!;
    if (!unit.endsWith('.socket')) continue;
    out.push({ listen: w.slice(0, w.length - 2).join(' '), unit, activates });
  }
  return out;
}

export function parsePasswd(text: string): UserEntry[] {
  const out: UserEntry[] = [];
  for (const l of lines(text)) {
    const f = l.split(':');
    if (f.length < 7) continue;
    out.push({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]!, shell: f[6]! });
  }
  return out;
}

/** `stat -c "%a %U %G"` → mode, owner, group. */
export function parseStat(text: string): FileStat | null {
  const m = /^([0-7]{3,4}) (\S+) (\S+)/.exec(text.trim());
  return m ? { mode: parseInt(m[1]!, 8), owner: m[2]!, group: m[3]! } : null;
}

export function parseList(text: string): string[] {
  return lines(text);
}

/** `sha256sum FILE…` output → { path: hex }. */
export function parseSha256sums(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (m) out[m[2]!] = m[1]!;
  }
  return out;
}
