/**
 * firewall: INPUT and FORWARD policy DROP, our INPUT rules in our own chain, container traffic
 * filtered in DOCKER-USER through our chain. Docker's chains are never flushed or restored.
 */
import { z } from 'zod';
import { HostError } from '../core/errors.js';
import { argv } from '../core/shell.js';
import { parseIptablesSave } from '../facts/parsers.js';
import type { FilterTable, HostFacts } from '../facts/types.js';
import { interfaceName, ipSource, port } from '../core/schemas.js';
import type { Change, Plan, PlanContext, StepDefinition } from './types.js';
import { installCommand, must, sh, varPort } from './util.js';

const portSchema = z.object({
  port,
  proto: z.enum(['tcp', 'udp']).default('tcp'),
  source: ipSource.optional(),
});
const settingsSchema = z.object({
  open_ports: z.array(portSchema).default([]),
  /** Published container ports reachable from outside (matched on the original destination port). */
  container_ports: z.array(portSchema).default([]),
  /**
   * Ports SSH is allowed on, when the operator knows better than sshd's own config (a port
   * forwarded from elsewhere). Default: every port sshd listens on, plus sshd_port. A wrong list
   * locks SSH out: the guard proves a fresh login and rolls the rules back if it fails.
   */
  ssh_ports: z.array(port).min(1).optional(),
  /** Interface(s) facing the outside; defaults to those of the default routes. */
  external_interfaces: z.array(interfaceName).optional(),
});
type Settings = z.infer<typeof settingsSchema>;

export const INPUT_CHAIN = 'HARDFLEET-INPUT';
export const DOCKER_CHAIN = 'HARDFLEET-DOCKER';

type Family = 'v4' | 'v6';
const TOOL: Record<Family, string> = { v4: 'iptables', v6: 'ip6tables' };

/** IPv4 or IPv6 source; a bare address is written as iptables-save prints it (/32 or /128). */
function sourceFor(family: Family, source: string | undefined): string | null | undefined {
  if (!source) return undefined;
  const v6 = source.includes(':');
  if ((family === 'v6') !== v6) return null;
  return source.includes('/') ? source : `${source}/${v6 ? 128 : 32}`;
}

/** Rules of our INPUT chain, exactly as iptables-save prints them (so facts compare by string). */
export function inputRules(family: Family, sshPorts: number[], s: Settings): string[] {
  const c = `-A ${INPUT_CHAIN}`;
  const rules = [`${c} -i lo -j ACCEPT`, `${c} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`];
  if (family === 'v4') rules.push(`${c} -p icmp -m icmp --icmp-type 8 -j ACCEPT`);
  else for (const t of [128, 133, 134, 135, 136]) rules.push(`${c} -p ipv6-icmp -m icmp6 --icmpv6-type ${t} -j ACCEPT`);
  for (const p of sshPorts) rules.push(`${c} -p tcp -m tcp --dport ${p} -j ACCEPT`);
  for (const o of s.open_ports) {
    const src = sourceFor(family, o.source);
    if (src === null) continue;
    rules.push(`${c}${src ? ` -s ${src}` : ''} -p ${o.proto} -m ${o.proto} --dport ${o.port} -j ACCEPT`);
  }
  return rules;
}

export function dockerRules(family: Family, ifaces: string[], s: Settings): string[] {
  const c = `-A ${DOCKER_CHAIN}`;
  const rules = [`${c} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`];
  for (const i of ifaces) {
    for (const o of s.container_ports) {
      const src = sourceFor(family, o.source);
      if (src === null) continue;
      rules.push(`${c}${src ? ` -s ${src}` : ''} -i ${i} -p ${o.proto} -m conntrack --ctorigdstport ${o.port} -j RETURN`);
    }
    rules.push(`${c} -i ${i} -j DROP`);
  }
  return rules;
}

interface Wanted {
  family: Family;
  input: string[];
  docker: string[] | null;
}

function diffFamily(t: FilterTable, w: Wanted): string[] {
  const out: string[] = [];
  const ch = t.chains;
  if (ch.INPUT?.policy !== 'DROP') out.push('INPUT policy DROP');
  if (ch.FORWARD?.policy !== 'DROP') out.push('FORWARD policy DROP');
  const jump = `-A INPUT -j ${INPUT_CHAIN}`;
  const inRules = ch.INPUT?.rules ?? [];
  if (inRules[0] !== jump || inRules.filter((r) => r === jump).length !== 1) out.push(`INPUT jumps to ${INPUT_CHAIN} first`);
  if ((ch[INPUT_CHAIN]?.rules ?? []).join('\n') !== w.input.join('\n')) out.push(`${INPUT_CHAIN} rules`);
  if (inRules.some((r) => r.includes('--comment hardfleet-ssh'))) out.push('temporary sshd port rules folded in');
  if (w.docker) {
    const dj = `-A DOCKER-USER -j ${DOCKER_CHAIN}`;
    if (ch['DOCKER-USER']?.rules[0] !== dj) out.push(`DOCKER-USER jumps to ${DOCKER_CHAIN} first`);
    if ((ch[DOCKER_CHAIN]?.rules ?? []).join('\n') !== w.docker.join('\n')) out.push(`${DOCKER_CHAIN} rules`);
  }
  return out;
}

/** Live change: our chains refilled atomically (iptables-restore --noflush touches only declared chains). */
function liveScript(w: Wanted): string {
  const t = TOOL[w.family];
  const restore = ['*filter', `:${INPUT_CHAIN} - [0:0]`, ...(w.docker ? [`:${DOCKER_CHAIN} - [0:0]`] : []), ...w.input, ...(w.docker ?? []), 'COMMIT', ''].join('\n');
  const ensureFirst = (chain: string, target: string) => [
    `if [ "$(${t} -S ${chain} 1 2>/dev/null)" != "-A ${chain} -j ${target}" ]; then ${t} -I ${chain} 1 -j ${target}; fi`,
    `for n in $(${t} -S ${chain} | awk '$0=="-A ${chain} -j ${target}"{print NR-1}' | sort -rn); do [ "$n" -gt 1 ] && ${t} -D ${chain} "$n"; done; true`,
  ];
  return [
    'set -e',
    `${t}-restore --noflush <<'HARDFLEET_EOF'\n${restore}HARDFLEET_EOF`,
    ...ensureFirst('INPUT', INPUT_CHAIN),
    ...(w.docker ? [`${t} -N DOCKER-USER 2>/dev/null || true`, ...ensureFirst('DOCKER-USER', DOCKER_CHAIN)] : []),
    `${t} -S INPUT | grep -- '--comment hardfleet-ssh' | sed 's/^-A /-D /' | while read -r r; do eval "${t} $r"; done`,
    `${t} -P INPUT DROP`,
    `${t} -P FORWARD DROP`,
  ].join('\n');
}

/** Undo: previous policies and previous content of our chains; Docker's chains are not touched. */
function rollbackFamily(t: FilterTable, family: Family): string {
  const tool = TOOL[family];
  const lines = ['set +e'];
  for (const chain of [INPUT_CHAIN, DOCKER_CHAIN]) {
    const prev = t.chains[chain];
    if (prev) {
      lines.push(`${tool}-restore --noflush <<'HARDFLEET_EOF'\n*filter\n:${chain} - [0:0]\n${prev.rules.map((r) => `${r}\n`).join('')}COMMIT\nHARDFLEET_EOF`);
    } else {
      const from = chain === INPUT_CHAIN ? 'INPUT' : 'DOCKER-USER';
      lines.push(`while ${tool} -D ${from} -j ${chain} 2>/dev/null; do :; done`, `${tool} -F ${chain} 2>/dev/null`, `${tool} -X ${chain} 2>/dev/null`);
    }
  }
  lines.push(`${tool} -P INPUT ${t.chains.INPUT?.policy ?? 'ACCEPT'}`, `${tool} -P FORWARD ${t.chains.FORWARD?.policy ?? 'ACCEPT'}`);
  return lines.join('\n');
}

/** Boot-time file: only our chains and the policies. Docker rebuilds its own chains when it starts. */
export function persistedRules(w: Wanted): string {
  return [
    '# Generated by hardfleet: policies and hardfleet chains only; Docker adds its own chains when it starts.',
    '*filter',
    ':INPUT DROP [0:0]',
    ':FORWARD DROP [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    `:${INPUT_CHAIN} - [0:0]`,
    ...(w.docker ? [':DOCKER-USER - [0:0]', `:${DOCKER_CHAIN} - [0:0]`] : []),
    `-A INPUT -j ${INPUT_CHAIN}`,
    ...(w.docker ? [`-A DOCKER-USER -j ${DOCKER_CHAIN}`] : []),
    ...w.input,
    ...(w.docker ?? []),
    'COMMIT',
    '',
  ].join('\n');
}

function persistPaths(p: HostFacts['firewall']['persistence']): Record<Family, string> {
  return p === 'iptables-services'
    ? { v4: '/etc/sysconfig/iptables', v6: '/etc/sysconfig/ip6tables' }
    : { v4: '/etc/iptables/rules.v4', v6: '/etc/iptables/rules.v6' };
}

export function planFirewall(f: HostFacts, ctx: PlanContext): Plan {
  if (f.firewall.firewalldActive) return { changes: [], warnings: [], notApplicable: 'firewalld is active: hardfleet manages iptables directly; stop firewalld or skip this step' };
  if (f.firewall.ufwActive) return { changes: [], warnings: [], notApplicable: 'ufw is active: hardfleet manages iptables directly; disable ufw or skip this step' };
  if (!f.firewall.filter.v4) return { changes: [], warnings: [], notApplicable: 'iptables not found' };
  const s = settingsSchema.parse(ctx.settings ?? {});
  const warnings: string[] = [];
  // Keep every port sshd listens on now: a moved port closes only once sshd no longer uses the old one.
  const listening = (f.sshdEffective.port ?? ['22']).map(Number);
  const sshPorts = [...new Set(s.ssh_ports ?? [...listening, ...[varPort(ctx.vars, 'sshd_port')].filter((p): p is number => !!p)])]
    .sort((a, b) => a - b);
  const shut = listening.filter((p) => !sshPorts.includes(p));
  if (shut.length) warnings.push(`ssh_ports leaves out port ${shut.join(', ')} that sshd listens on: only a proven login keeps this change`);
  const ifaces = s.external_interfaces ?? f.defaultInterfaces;

  const changes: Change[] = [];
  const wanted: Wanted[] = [];
  for (const family of ['v4', 'v6'] as const) {
    const t = f.firewall.filter[family];
    if (!t) {
      if (family === 'v6') warnings.push('ip6tables not found: IPv6 left unfiltered');
      continue;
    }
    const hasDocker = 'DOCKER-USER' in t.chains;
    if (!hasDocker && family === 'v4' && f.docker.installed) warnings.push('Docker is installed but its chains are missing (not running?): container traffic not filtered');
    if (hasDocker && ifaces.length === 0) warnings.push('no external interface known: set external_interfaces to filter container traffic');
    const w: Wanted = { family, input: inputRules(family, sshPorts, s), docker: hasDocker ? dockerRules(family, ifaces, s) : null };
    wanted.push(w);
    const diff = diffFamily(t, w);
    if (!diff.length) continue;
    const script = liveScript(w);
    const tool = TOOL[family];
    changes.push({
      summary: `${tool}: ${diff.join(', ')} (ssh ${sshPorts.join(',')})`,
      guard: 'login',
      rollbackScript: rollbackFamily(t, family),
      async apply(remote) { await must(remote, script, `${tool} rules`); },
      async verify(remote) {
        const r = await must(remote, argv(`${tool}-save`, '-t', 'filter'), `${tool}-save`);
        const now = parseIptablesSave(r.stdout);
        const left = now ? diffFamily(now, w) : ['no filter table'];
        if (left.length) throw new HostError(remote.name, `${tool} still differs: ${left.join(', ')}`);
      },
    });
  }

  const paths = persistPaths(f.firewall.persistence);
  const files = wanted
    .map((w) => ({ path: paths[w.family], before: f.firewall.persisted[w.family], after: persistedRules(w) }))
    .filter((x) => x.before !== x.after);
  if (files.length) {
    const pm = f.firewall.persistence;
    const rhel = f.pkgManager === 'dnf' || f.pkgManager === 'yum';
    changes.push({
      summary: `persist rules (${files.map((x) => x.path).join(', ')}; our chains and policies only)`,
      files,
      backupPaths: files.map((x) => x.path),
      async apply(remote) {
        if (pm === null) {
          const pre = rhel ? '' : 'printf "iptables-persistent iptables-persistent/autosave_v4 boolean false\\niptables-persistent iptables-persistent/autosave_v6 boolean false\\n" | debconf-set-selections; ';
          await must(remote, pre + installCommand(f.pkgManager, [rhel ? 'iptables-services' : 'iptables-persistent']), 'install rule persistence');
        }
        await must(remote, `mkdir -p ${argv(files[0]!.path.replace(/\/[^/]+$/, ''))}`, 'rules directory');
        for (const file of files) await remote.writeFile(file.path, file.after, { mode: 0o600, owner: 'root', group: 'root', sudo: true });
        // Enabling only: starting the service now would restore (flush) the live table.
        await sh(remote, rhel ? 'systemctl enable iptables ip6tables' : 'systemctl enable netfilter-persistent', { allowFailure: true });
      },
    });
  }
  return { changes, warnings };
}

export const firewallStep: StepDefinition = {
  id: 'firewall',
  tags: ['firewall', 'network', 'login'],
  guarded: true,
  settingsSchema,
  plan: planFirewall,
};
