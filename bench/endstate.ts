/**
 * The end state of a hardened host, read out-of-band (lab console, no SSH), in a form where the
 * hardfleet and Ansible runs can be compared: what sshd really uses, the installed packages,
 * daemon.json as data, the live iptables/ip6tables rules, the rules loaded at boot, the units
 * that were listening, and the admin's login and sudo rights. File names and comments differ
 * between the two on purpose (each tool names its own drop-ins); their effect must not.
 */

export const SSHD_KEYS = [
  'port', 'permitrootlogin', 'passwordauthentication', 'kbdinteractiveauthentication', 'pubkeyauthentication',
  'authenticationmethods', 'maxauthtries', 'logingracetime', 'x11forwarding', 'allowagentforwarding',
  'clientaliveinterval', 'clientalivecountmax',
];

const UNITS = ['rpcbind.socket', 'rpcbind.service', 'inetutils-inetd.service', 'netfilter-persistent.service', 'docker.service', 'ssh.service'];

/** POSIX sh run as root on the host; sections as `@@NAME@@` lines. */
export const STATE_SCRIPT = [
  's() { printf "\\n@@%s@@\\n" "$1"; }',
  's sshd; sshd -T -C user=hfadmin,host=x,addr=198.18.0.1 2>&1',
  `s packages; dpkg-query -W -f '\${Status} \${Package}=\${Version}\\n' | awk '$3=="installed"{print $4}'`,
  's daemon-json; cat /etc/docker/daemon.json 2>/dev/null',
  's iptables; iptables -S',
  's ip6tables; ip6tables -S',
  's rules-v4; grep -v "^#" /etc/iptables/rules.v4 2>/dev/null',
  's rules-v6; grep -v "^#" /etc/iptables/rules.v6 2>/dev/null',
  `s units; for u in ${UNITS.join(' ')}; do echo "$u $(systemctl is-active $u 2>/dev/null) $(systemctl is-enabled $u 2>/dev/null)"; done`,
  // Loopback listeners are left out: containerd picks a random port on every start.
  "s listening; ss -Hltnu | awk '{print $1, $5}' | grep -v -e ' 127\\.' -e ' \\[::1\\]' | sort -u",
  's admin; getent passwd hfadmin | cut -d: -f1,6,7; h=$(getent passwd hfadmin | cut -d: -f6); stat -c "%a %U %G" "$h" "$h/.ssh" "$h/.ssh/authorized_keys"',
  "s admin-keys; awk '{print $1, $2}' \"$(getent passwd hfadmin | cut -d: -f6)/.ssh/authorized_keys\" | sort",
  's admin-sudo; sudo -l -U hfadmin | grep NOPASSWD | sed "s/^ *//"',
  's end',
].join('\n');

export type HostState = Record<string, string>;

export function parseState(out: string): HostState {
  const state: HostState = {};
  let cur: string | null = null;
  for (const line of out.split('\n')) {
    const m = /^@@([a-z0-9-]+)@@$/.exec(line);
    if (m) {
      cur = m[1]!;
      state[cur] = '';
      continue;
    }
    if (cur) state[cur] += `${line}\n`;
  }
  delete state.end;
  for (const k of Object.keys(state)) state[k] = normalize(k, state[k]!);
  return state;
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

function normalize(section: string, text: string): string {
  const lines = text.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
  if (section === 'sshd') return lines.filter((l) => SSHD_KEYS.includes(l.split(' ')[0]!)).sort().join('\n');
  if (section === 'packages' || section === 'listening' || section === 'admin-keys') return [...new Set(lines)].sort().join('\n');
  if (section === 'daemon-json') {
    try {
      return stable(JSON.parse(lines.join('\n') || 'null'));
    } catch {
      return `unparsable: ${lines.join(' ')}`;
    }
  }
  return lines.join('\n');
}

/** "host section: only in A …; only in B …" for every section that differs. */
export function diffStates(a: Record<string, HostState>, b: Record<string, HostState>, names: [string, string]): string[] {
  const out: string[] = [];
  for (const host of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const x = a[host];
    const y = b[host];
    if (!x || !y) {
      out.push(`${host}: read only after ${x ? names[0] : names[1]}`);
      continue;
    }
    for (const section of [...new Set([...Object.keys(x), ...Object.keys(y)])]) {
      const p = x[section] ?? '';
      const q = y[section] ?? '';
      if (p === q) continue;
      const pl = new Set(p.split('\n'));
      const ql = new Set(q.split('\n'));
      const onlyP = [...pl].filter((l) => !ql.has(l));
      const onlyQ = [...ql].filter((l) => !pl.has(l));
      const what = onlyP.length || onlyQ.length
        ? [onlyP.length ? `only after ${names[0]}: ${onlyP.join('; ')}` : '', onlyQ.length ? `only after ${names[1]}: ${onlyQ.join('; ')}` : ''].filter(Boolean).join(' / ')
        : 'same lines, other order';
      out.push(`${host} ${section}: ${what}`);
    }
  }
  return out;
}
