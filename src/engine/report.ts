/** The run's report: one shape for machines (--json) and people (the recap is built from it). */

export type HostStatus = 'ok' | 'changed' | 'failed' | 'unreachable' | 'rolled-back' | 'skipped' | 'not-started';
export type StepStatus = 'ok' | 'changed' | 'failed' | 'rolled-back' | 'skipped' | 'n/a' | 'would-change';

export interface StepReport {
  id: string;
  status: StepStatus;
  changed: boolean;
  message: string;
  /** What changed (or would change), one line each. */
  changes?: string[];
  warnings?: string[];
  diff?: string;
  /** Time the step took on this host: plan, apply, verify and re-reading the facts. */
  ms?: number;
}

export interface HostReport {
  status: HostStatus;
  address: string;
  batch: number;
  steps: StepReport[];
  error?: string;
  hint?: string;
  /** Output of an ad-hoc command (`hardfleet run`). */
  stdout?: string;
  stderr?: string;
  exitCode?: number | null;
  ms?: number;
  /** Connection and login, then the one round trip of facts, before the first step. */
  connectMs?: number;
  factsMs?: number;
}

export interface Summary {
  ok: number;
  changed: number;
  failed: number;
  unreachable: number;
  rolledBack: number;
  skipped: number;
  notStarted: number;
}

export interface RunReport {
  summary: Summary;
  batches: string[][];
  hosts: Record<string, HostReport>;
  /** Why the rollout stopped early, when it did. */
  stopped?: { reason: 'budget' | 'interrupt'; message: string };
  check: boolean;
}

export function summarize(hosts: Record<string, HostReport>): Summary {
  const s: Summary = { ok: 0, changed: 0, failed: 0, unreachable: 0, rolledBack: 0, skipped: 0, notStarted: 0 };
  for (const h of Object.values(hosts)) {
    if (h.status === 'ok') s.ok++;
    else if (h.status === 'changed') s.changed++;
    else if (h.status === 'failed') s.failed++;
    else if (h.status === 'unreachable') s.unreachable++;
    else if (h.status === 'rolled-back') {
      s.rolledBack++;
      s.failed++;
    } else if (h.status === 'skipped') s.skipped++;
    else s.notStarted++;
  }
  return s;
}

/** A host that failed in any way spends the failure budget: unreachable and rolled back included. */
export function isFailure(status: HostStatus): boolean {
  return status === 'failed' || status === 'unreachable' || status === 'rolled-back';
}

/** 0: all ok or changed; 2: hosts failed or were unreachable; 3: stopped by the budget or an interrupt. */
export function exitCode(r: RunReport): number {
  if (r.stopped) return 3;
  const s = r.summary;
  return s.failed + s.unreachable > 0 ? 2 : 0;
}

export function totalsLine(s: Summary): string {
  return `hosts: ${s.ok} ok, ${s.changed} changed, ${s.failed} failed, ${s.unreachable} unreachable, ${s.notStarted} not started` +
    (s.rolledBack ? ` (${s.rolledBack} rolled back)` : '') + (s.skipped ? `, ${s.skipped} skipped` : '');
}
