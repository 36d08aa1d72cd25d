/**
 * services.minimal: every unit that listens on the network and is not sshd, Docker, base
 * networking, or allowed by the playbook is stopped and disabled. Decided from real sockets.
 */
import { z } from 'zod';
import { HostError } from '../core/errors.js';
import { argv } from '../core/shell.js';
import type { HostFacts, ListenSocket } from '../facts/types.js';
import type { Change, Plan, PlanContext, StepDefinition } from './types.js';
import { must } from './util.js';

const settingsSchema = z.object({
  /** Unit names (with or without .service) or process names to keep. */
  allow: z.array(z.string()).default([]),
  /** Listeners bound only to loopback are unreachable from the network: left alone unless false. */
  allow_loopback: z.boolean().default(true),
});

/** Never stopped: login, Docker, and what keeps the host on the network and on time. */
const ALWAYS = [
  'ssh', 'sshd', 'ssh.socket', 'sshd.socket', 'docker', 'docker.socket', 'containerd', 'dockerd', 'docker-proxy',
  'systemd-networkd', 'systemd-resolved', 'systemd-resolve', 'networking', 'NetworkManager', 'dhclient', 'dhcpcd',
  'chronyd', 'chrony', 'systemd-timesyncd', 'ntpd', 'ntp',
];

function base(unit: string): string {
  return unit.replace(/\.(service|socket)$/, '').replace(/@.*$/, '');
}

function isLoopback(addr: string): boolean {
  return addr.startsWith('127.') || addr === '::1';
}

/** "0.0.0.0:111", "[::]:111", "/run/x.sock" (systemd list-sockets) → port, if any. */
function listenPort(listen: string): number | null {
  const m = /:(\d+)$/.exec(listen);
  return m ? Number(m[1]) : null;
}

interface Target {
  units: Set<string>;
  why: Set<string>;
}

export function planServices(f: HostFacts, ctx: PlanContext): Plan {
  if (f.init !== 'systemd') return { changes: [], warnings: [], notApplicable: 'not a systemd host' };
  const s = settingsSchema.parse(ctx.settings ?? {});
  const allowed = new Set([...ALWAYS, ...s.allow].map(base));
  const warnings: string[] = [];
  const targets = new Map<string, Target>();

  const describe = (l: ListenSocket) => `${l.proto}/${l.port}${l.processes[0] ? ` (${l.processes[0].name})` : ''}`;
  for (const l of f.listening) {
    if (s.allow_loopback && isLoopback(l.address)) continue;
    if (l.processes.some((p) => allowed.has(p.name))) continue;
    // Socket units listen through pid 1; list-sockets names the socket and the service it starts.
    const sockets = f.systemdSockets.filter((x) => listenPort(x.listen) === l.port);
    const units = new Set([...l.units.filter((u) => u.endsWith('.service') || u.endsWith('.socket')), ...sockets.flatMap((x) => [x.unit, x.activates])]);
    if (units.size === 0) {
      if (!l.units.some((u) => u.startsWith('docker-') && u.endsWith('.scope'))) warnings.push(`${describe(l)} listens but belongs to no systemd unit: left alone`);
      continue;
    }
    if ([...units].some((u) => allowed.has(base(u)))) continue;
    // All units of one socket-activated service stop together (rpcbind.socket + rpcbind.service).
    const key = [...units].map(base).sort()[0]!;
    const t = targets.get(key) ?? { units: new Set<string>(), why: new Set<string>() };
    for (const u of units) t.units.add(u);
    t.why.add(describe(l));
    targets.set(key, t);
  }

  const changes: Change[] = [...targets.values()].map((t) => {
    // Sockets first, so a stopped service is not started again by its socket.
    const units = [...t.units].sort((a, b) => Number(b.endsWith('.socket')) - Number(a.endsWith('.socket')));
    return {
      summary: `stop and disable ${units.join(', ')} (listens on ${[...t.why].join(', ')})`,
      async apply(remote) {
        // Not `disable --now`: for SysV scripts (inetutils-inetd) systemctl hands `disable` to
        // update-rc.d and never stops the running daemon.
        await must(remote, `${argv('systemctl', 'stop', ...units)} && ${argv('systemctl', 'disable', ...units)}`, `stop and disable ${units.join(' ')}`);
      },
      async verify(remote) {
        const r = await remote.exec(argv('systemctl', 'is-active', ...units), { sudo: true, allowFailure: true });
        const active = r.stdout.split('\n').map((x, i) => [units[i], x.trim()]).filter(([, st]) => st === 'active');
        if (active.length) throw new HostError(remote.name, `still active: ${active.map(([u]) => u).join(', ')}`);
      },
    } satisfies Change;
  });
  return { changes, warnings };
}

export const servicesStep: StepDefinition = {
  id: 'services.minimal',
  tags: ['services'],
  settingsSchema,
  plan: planServices,
};
