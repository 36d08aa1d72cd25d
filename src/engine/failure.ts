/** Any error from a host, in the report's words (kept apart from host-run so `run` loads no playbook code). */
import type { HostSpec } from '../core/host.js';
import { HardfleetError, isUnreachable } from '../core/errors.js';
import { RolledBackError } from './guard.js';
import type { HostReport, StepReport } from './report.js';

/** Turn any error from a host into the report's words, with the operator's hint. */
export function failure(spec: HostSpec, e: unknown, steps: StepReport[] = []): HostReport {
  const base = { address: spec.address, batch: 0, steps };
  if (e instanceof RolledBackError) return { ...base, status: 'rolled-back', error: e.message };
  if (isUnreachable(e)) return { ...base, status: 'unreachable', error: (e as Error).message, hint: (e as HardfleetError).hint };
  if (e instanceof HardfleetError) return { ...base, status: 'failed', error: e.message, hint: e.hint };
  return { ...base, status: 'failed', error: e instanceof Error ? e.message : String(e) };
}
