/** packages.minimal: remove compilers and build tools, never what Docker, sshd or sudo need. */
import { z } from 'zod';
import { HostError } from '../core/errors.js';
import { argv } from '../core/shell.js';
import type { HostFacts } from '../facts/types.js';
import type { Change, Plan, PlanContext, StepDefinition } from './types.js';
import { must, sh } from './util.js';

const settingsSchema = z.object({
  /** Extra names or shell-style globs (linux-headers-*) to remove. */
  extra_remove: z.array(z.string()).default([]),
  keep: z.array(z.string()).default([]),
});

const REMOVE: Record<'apt' | 'rpm', string[]> = {
  apt: ['build-essential', 'gcc', 'gcc-[0-9]*', 'g++', 'g++-[0-9]*', 'cpp', 'cpp-[0-9]*', 'make', 'libc6-dev', 'linux-headers-*',
    'dpkg-dev', 'autoconf', 'automake', 'libtool', 'gdb'],
  rpm: ['gcc', 'gcc-c++', 'cpp', 'make', 'kernel-devel', 'kernel-headers', 'glibc-devel', 'glibc-headers', 'autoconf', 'automake',
    'libtool', 'gdb'],
};

/** A removal that would take one of these with it is refused. */
export const PROTECTED = [
  'docker.io', 'docker-ce', 'docker-ce-cli', 'docker-engine', 'moby-engine', 'containerd', 'containerd.io', 'runc',
  'openssh-server', 'openssh', 'sudo', 'systemd', 'iptables', 'iptables-nft', 'iptables-legacy',
];

/**
 * Runtime pieces that compiler globs also match: gcc-12-base carries libgcc-s1's files and is
 * required by every Debian system; removing it breaks the package resolver.
 */
const RUNTIME = [/^(gcc|cpp|g\+\+)-\d+-base$/];

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

export function planPackages(f: HostFacts, ctx: PlanContext): Plan {
  if (!f.pkgManager) return { changes: [], warnings: [], notApplicable: 'no apt, dnf or yum' };
  const s = settingsSchema.parse(ctx.settings ?? {});
  const apt = f.pkgManager === 'apt';
  const patterns = [...REMOVE[apt ? 'apt' : 'rpm'], ...s.extra_remove].map(glob);
  const keep = new Set([...s.keep, ...PROTECTED]);
  const remove = f.packages.filter((p) => !keep.has(p) && !RUNTIME.some((r) => r.test(p)) && patterns.some((r) => r.test(p))).sort();
  if (!remove.length) return { changes: [], warnings: [] };

  const pm = f.pkgManager;
  const names = PROTECTED.map((p) => p.replace(/[.+]/g, '\\$&')).join('|');
  // apt -s prints "Remv docker.io [..]" / "Purg ..."; dnf's transaction table " docker-ce  x86_64 ...".
  const hitRe = apt ? new RegExp(`^(?:Remv|Purg) (${names})(?::\\S+)?(?: |$)`) : new RegExp(`^\\s+(${names})\\s+\\S+\\s+\\S+`);
  const change: Change = {
    summary: `remove ${remove.join(', ')}`,
    async apply(remote) {
      // Simulate first: a dependency chain must never take Docker, sshd or sudo with it.
      const sim = apt
        ? `DEBIAN_FRONTEND=noninteractive ${argv('apt-get', '-s', 'purge', '--auto-remove', ...remove)}`
        : `${argv(pm, '--assumeno', 'remove', ...remove)}; true`;
      const r = await sh(remote, sim, { allowFailure: true });
      if (apt && r.code !== 0) throw new HostError(remote.name, `apt-get -s purge failed: ${r.stderr.trim().split('\n').pop() ?? ''}`);
      const hits = r.stdout.split('\n').filter((l) => hitRe.test(l));
      if (hits.length) {
        throw new HostError(remote.name, `removing ${remove.join(' ')} would also remove: ${hits.map((l) => l.trim().split(/\s+/).slice(0, 2).join(' ')).join('; ')}`,
          'add the package that pulls it in to packages.minimal keep');
      }
      const run = apt
        ? `DEBIAN_FRONTEND=noninteractive ${argv('apt-get', '-y', 'purge', '--auto-remove', ...remove)}`
        : argv(pm, '-y', 'remove', ...remove);
      await must(remote, run, `remove ${remove.join(' ')}`, { timeoutMs: 900_000 });
    },
    async verify(remote) {
      const q = apt
        ? `dpkg-query -W -f '\${Status} \${Package}\\n' ${argv(...remove)} 2>/dev/null | awk '$3=="installed"{print $4}'`
        : `rpm -q --qf '%{NAME}\\n' ${argv(...remove)} 2>/dev/null | grep -v 'not installed'; true`;
      const r = await sh(remote, q, { allowFailure: true });
      const left = r.stdout.split('\n').map((x) => x.trim()).filter(Boolean);
      if (left.length) throw new HostError(remote.name, `still installed: ${left.join(', ')}`);
    },
  };
  return { changes: [change], warnings: [] };
}

export const packagesMinimalStep: StepDefinition = {
  id: 'packages.minimal',
  tags: ['packages'],
  settingsSchema,
  plan: planPackages,
};
