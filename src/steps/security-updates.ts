/**
 * packages.security-updates: install only updates from security origins. Whether any are pending
 * is known for sure only after refreshing the lists, so, like Ansible's `cache_valid_time`, the
 * step trusts the host's cached lists while they are younger than `cache_valid_time` (the plan is
 * empty when they show nothing pending) and otherwise plans one change that refreshes them and
 * installs what they show; it reports `{ changed: false }` when nothing was installed.
 */
import { z } from 'zod';
import { HostError } from '../core/errors.js';
import type { Remote } from '../core/remote.js';
import { argv } from '../core/shell.js';
import type { HostFacts } from '../facts/types.js';
import type { ApplyOutcome, Change, Plan, PlanContext, StepDefinition } from './types.js';
import { must, sh } from './util.js';
import { PKG_LISTS_STAMP } from '../facts/script.js';

const settingsSchema = z.object({
  /** When no repository answers: warn instead of failing the host. */
  optional: z.boolean().default(false),
  /** Seconds for which lists refreshed by an earlier run are trusted (Ansible's cache_valid_time). */
  cache_valid_time: z.number().int().min(0).default(3600),
});

const LONG = { timeoutMs: 1_800_000 };

/** `apt-get -s dist-upgrade` "Inst pkg [old] (new Debian-Security:12/stable-security [amd64])" → names from security origins. */
export function aptSecurityPackages(simulation: string): string[] {
  const out: string[] = [];
  for (const line of simulation.split('\n')) {
    const m = /^Inst (\S+) (?:\[[^\]]*\] )?\(([^)]*)\)/.exec(line);
    if (m && /(-security|Debian-Security)/i.test(m[2]!)) out.push(m[1]!);
  }
  return out;
}

async function rebootWarning(remote: Remote): Promise<string[]> {
  const r = await sh(remote, 'if [ -f /var/run/reboot-required ]; then echo yes; elif command -v needs-restarting >/dev/null 2>&1; then needs-restarting -r >/dev/null 2>&1; [ $? -eq 1 ] && echo yes; fi; true', { allowFailure: true });
  return r.stdout.includes('yes') ? ['reboot required to finish the security updates'] : [];
}

/** Lets the next run trust these lists for cache_valid_time (see the facts' pkg-lists-age). */
async function stamp(remote: Remote): Promise<void> {
  await must(remote, `mkdir -p /var/lib/hardfleet && touch ${PKG_LISTS_STAMP}`, 'record the refresh');
}

function unreachable(remote: Remote, optional: boolean, detail: string): ApplyOutcome {
  const msg = `no package repository answered: ${detail}`;
  if (optional) return { changed: false, warnings: [msg] };
  throw new HostError(remote.name, msg, 'check the host\'s proxy/DNS/mirror, or set packages.security-updates optional: true');
}

async function applyApt(remote: Remote, optional: boolean): Promise<ApplyOutcome> {
  const upd = await sh(remote, 'DEBIAN_FRONTEND=noninteractive apt-get update -q', { ...LONG, allowFailure: true });
  const failed = upd.code !== 0 || /^(W|E): (Failed to fetch|Some index files failed)/m.test(upd.stderr);
  if (failed) return unreachable(remote, optional, upd.stderr.trim().split('\n').pop() ?? `exit ${upd.code}`);
  const sim = await must(remote, 'apt-get -s dist-upgrade', 'apt-get -s dist-upgrade');
  const pkgs = aptSecurityPackages(sim.stdout);
  if (pkgs.length) {
    await must(remote,
      `DEBIAN_FRONTEND=noninteractive ${argv('apt-get', '-y', '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold', 'install', '--only-upgrade', ...pkgs)}`,
      'install security updates', LONG);
  }
  await stamp(remote);
  const warnings = await rebootWarning(remote);
  if (!pkgs.length) return { changed: false, message: 'no security updates pending (lists refreshed)', warnings };
  return { changed: true, message: `installed ${pkgs.length} security update(s): ${pkgs.join(', ')}`, warnings };
}

async function applyRpm(remote: Remote, pm: 'dnf' | 'yum', optional: boolean): Promise<ApplyOutcome> {
  // check-update: 100 = updates pending, 0 = none, 1 = error (no repository answered).
  const check = await sh(remote, argv(pm, '-q', 'check-update', '--security'), { ...LONG, allowFailure: true });
  if (check.code !== 0 && check.code !== 100) return unreachable(remote, optional, check.stderr.trim().split('\n').pop() ?? `exit ${check.code}`);
  const warnings: string[] = [];
  const info = await sh(remote, argv(pm, '-q', 'updateinfo', 'list', '--security'), { ...LONG, allowFailure: true });
  if (info.code === 0 && info.stdout.trim() === '') {
    warnings.push('the repositories publish no security advisories (updateinfo): --security cannot tell security updates apart');
  }
  if (check.code === 100) await must(remote, argv(pm, '-y', 'update', '--security'), 'install security updates', LONG);
  await stamp(remote);
  warnings.push(...await rebootWarning(remote));
  if (check.code === 0) return { changed: false, message: 'no security updates pending (metadata refreshed)', warnings };
  return { changed: true, message: 'installed the pending security updates', warnings };
}

export function planSecurityUpdates(f: HostFacts, ctx: PlanContext): Plan {
  const pm = f.pkgManager;
  if (!pm) return { changes: [], warnings: [], notApplicable: 'no apt, dnf or yum' };
  const s = settingsSchema.parse(ctx.settings ?? {});
  const reboot = f.rebootRequired ? ['reboot required (already before this run)'] : [];
  const fresh = f.pkgListsAgeSec !== null && f.pkgListsAgeSec < s.cache_valid_time;
  const pending = f.securityUpdates ?? 0;
  if (fresh && pending === 0) return { changes: [], warnings: reboot };
  const why = fresh ? `${pending} pending by lists refreshed ${f.pkgListsAgeSec}s ago`
    : f.pkgListsAgeSec === null ? 'lists never refreshed by hardfleet' : `lists older than cache_valid_time (${s.cache_valid_time}s)`;
  const change: Change = {
    summary: `refresh package lists and install pending security updates (${why})`,
    apply: (remote) => (pm === 'apt' ? applyApt(remote, s.optional) : applyRpm(remote, pm, s.optional)),
  };
  return { changes: [change], warnings: reboot };
}

export const securityUpdatesStep: StepDefinition = {
  id: 'packages.security-updates',
  tags: ['packages', 'updates'],
  settingsSchema,
  plan: planSecurityUpdates,
};
