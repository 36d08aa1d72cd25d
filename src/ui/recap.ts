/** The recap people read after a run, built from the same report that --json writes. */
import { totalsLine, type HostReport, type RunReport } from '../engine/report.js';

const MARK: Record<string, string> = { ok: 'ok', changed: 'changed', failed: 'FAILED', unreachable: 'UNREACHABLE', 'rolled-back': 'ROLLED BACK', skipped: 'skipped', 'not-started': 'not started' };

export interface RecapOptions {
  diff: boolean;
  /** List hosts that are ok with no change one by one (otherwise they are counted). */
  verbose?: boolean;
  /** Command output was already streamed while the run went: do not print it again. */
  outputShown?: boolean;
}

export function recap(r: RunReport, opts: RecapOptions): string {
  const out: string[] = [];
  for (const [i, batch] of r.batches.entries()) {
    out.push(`batch ${i + 1}/${r.batches.length} (${batch.length} host${batch.length > 1 ? 's' : ''})`);
    const quiet: string[] = [];
    for (const name of batch) {
      const h = r.hosts[name];
      if ((h.status === 'ok' && !hasWarnings(h) && !opts.verbose) || h.status === 'not-started') {
        quiet.push(name);
        continue;
      }
      out.push(...hostLines(name, h, r.check, opts));
    }
    const ok = quiet.filter((n) => r.hosts[n].status === 'ok');
    const ns = quiet.filter((n) => r.hosts[n].status === 'not-started');
    if (ok.length) out.push(`  ok, nothing to change: ${list(ok)}`);
    if (ns.length) out.push(`  not started: ${list(ns)}`);
  }
  const groups = groupErrors(r);
  if (groups.length) {
    out.push('', 'failures:');
    for (const g of groups) out.push(`  ${g.error}${g.hint ? `\n    hint: ${g.hint}` : ''}\n    on ${list(g.hosts)}`);
  }
  if (r.stopped) out.push('', `rollout stopped: ${r.stopped.message}`);
  if (r.check) out.push('', 'check mode: nothing was changed');
  out.push('', totalsLine(r.summary));
  return out.join('\n');
}

function hasWarnings(h: HostReport): boolean {
  return h.steps.some((s) => s.warnings && s.warnings.length > 0);
}

function hostLines(name: string, h: HostReport, check: boolean, opts: RecapOptions): string[] {
  const head = check && h.status === 'changed' ? 'would change' : MARK[h.status];
  const lines = [`  ${name} (${h.address}): ${head}${h.ms !== undefined ? ` in ${(h.ms / 1000).toFixed(1)}s` : ''}`];
  for (const s of h.steps) {
    if (s.status === 'ok' && !s.warnings?.length) continue;
    const what = s.status === 'changed' ? (s.changes ?? [s.message]).join('; ') : s.message;
    lines.push(`    ${s.id}: ${check && s.status === 'changed' ? 'would' : s.status}${what ? ` — ${what}` : ''}`);
    for (const w of s.warnings ?? []) lines.push(`      warning: ${w}`);
    if (opts.diff && s.diff) lines.push(...s.diff.trimEnd().split('\n').map((l) => `      ${l}`));
  }
  if (opts.outputShown) return lines;
  if (h.stdout) lines.push(...h.stdout.trimEnd().split('\n').map((l) => `    | ${l}`));
  if (h.stderr) lines.push(...h.stderr.trimEnd().split('\n').map((l) => `    ! ${l}`));
  return lines;
}

/** Hundreds of hosts with the same failure read as one line with a host list. */
export function groupErrors(r: RunReport): Array<{ error: string; hint?: string; hosts: string[] }> {
  const groups = new Map<string, { error: string; hint?: string; hosts: string[] }>();
  for (const [name, h] of Object.entries(r.hosts)) {
    if (!h.error) continue;
    const key = `${h.status}|${h.error.replaceAll(name, '<host>').replaceAll(h.address, '<address>')}|${h.hint ?? ''}`;
    const g = groups.get(key) ?? { error: `${MARK[h.status]}: ${h.error.replaceAll(name, '<host>').replaceAll(h.address, '<address>')}`, hint: h.hint, hosts: [] };
    g.hosts.push(name);
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => b.hosts.length - a.hosts.length);
}

function list(names: string[], max = 12): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}
