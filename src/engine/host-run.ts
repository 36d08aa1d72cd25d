/**
 * One host's run of a playbook: connect once, gather facts in one round trip, then for each step
 * plan (pure), and apply — under the SSH guard when a change can lock the operator out. A step
 * that plans nothing is "ok": that is how a second run proves it changed nothing.
 */
import { createTwoFilesPatch } from 'diff';
import type { HostSpec } from '../core/host.js';
import type { Remote } from '../core/remote.js';
import { HardfleetError } from '../core/errors.js';
import { gatherFacts } from '../facts/gather.js';
import type { HostFacts } from '../facts/types.js';
import type { Playbook, PlaybookStep } from '../playbook/load.js';
import { StepRefusedError, type Change, type FileDiff } from '../steps/types.js';
import { applyGuarded, LoginNotProvenError, RolledBackError } from './guard.js';
import { failure } from './failure.js';
import type { HostReport, StepReport } from './report.js';

export interface Session extends Remote {
  /** The SSH port this session reached (the connector may have found sshd on a moved port). */
  readonly port?: number;
  close(): void;
}

/** How the engine reaches hosts; the CLI builds it from the SSH layer. */
export interface Connector {
  /** The run's connection to a host (its inventory user and keys). */
  open(spec: HostSpec): Promise<Session>;
  /** A brand-new connection (new TCP, new authentication) as another user, for login proofs (port: spec.port unless given). */
  openAs(spec: HostSpec, user: string, identityFiles: string[], port?: number): Promise<Session>;
}

export interface HostRunOptions {
  playbook: Playbook;
  steps: PlaybookStep[];
  check: boolean;
  diff: boolean;
  extraVars: Record<string, unknown>;
  progress(host: string, msg: string): void;
}

export function hostVars(pb: Playbook, host: HostSpec, extra: Record<string, unknown>): Record<string, unknown> {
  return { ...pb.vars, ...host.vars, ...extra };
}

export function unifiedDiff(f: FileDiff): string {
  return createTwoFilesPatch(f.before === null ? '/dev/null' : f.path, f.after === null ? '/dev/null' : f.path, f.before ?? '', f.after ?? '', '', '', { context: 3 });
}

export async function runPlaybookOnHost(spec: HostSpec, connector: Connector, opts: HostRunOptions): Promise<HostReport> {
  const vars = hostVars(opts.playbook, spec, opts.extraVars);
  const adminUser = typeof vars.admin_user === 'string' ? vars.admin_user : undefined;
  const adminKey = typeof vars.admin_private_key_file === 'string' ? vars.admin_private_key_file : undefined;
  const progress = (m: string) => opts.progress(spec.name, m);
  const steps: StepReport[] = [];
  const timings: { connectMs?: number; factsMs?: number } = {};
  let session: Session | undefined;
  try {
    progress('connecting');
    const t0 = Date.now();
    session = await connector.open(spec);
    timings.connectMs = Date.now() - t0;
    // Where SSH answers now: proofs and reconnects follow it when a guarded change moves sshd.
    let at: HostSpec = { ...spec, port: session.port ?? spec.port };
    progress('gathering facts');
    let facts: HostFacts = await gatherFacts(session, { adminUser });
    timings.factsMs = Date.now() - t0 - timings.connectMs;
    if (!opts.check) {
      const refused = preflight(opts.steps, facts, vars);
      if (refused) {
        steps.push({ id: refused.step, status: 'failed', changed: false, message: refused.error.message });
        return failure(spec, new HardfleetError(`${refused.step}: ${refused.error.message}; nothing was changed on this host`, refused.error.hint), steps);
      }
    }
    let anyChanged = false;
    for (const step of opts.steps) {
      const stepStarted = Date.now();
      const stepIndex = steps.length;
      try {
        progress(step.id);
        let plan;
        try {
          plan = step.def.plan(facts, { vars, settings: step.settings });
        } catch (e) {
          if (e instanceof StepRefusedError || e instanceof HardfleetError) {
            steps.push({ id: step.id, status: 'failed', changed: false, message: e.message });
            return { ...failure(spec, new HardfleetError(`${step.id}: ${e.message}`, e.hint), steps) };
          }
          throw e;
        }
        if (plan.notApplicable) {
          steps.push({ id: step.id, status: 'n/a', changed: false, message: plan.notApplicable, warnings: plan.warnings });
          continue;
        }
        const report: StepReport = { id: step.id, status: 'ok', changed: false, message: 'compliant', warnings: [...plan.warnings] };
        steps.push(report);
        if (plan.changes.length === 0) continue;
        report.changes = plan.changes.map((c) => c.summary);
        const files = plan.changes.flatMap((c) => c.files ?? []);
        if (opts.diff || opts.check) report.diff = files.map(unifiedDiff).join('') || undefined;
        if (opts.check) {
          Object.assign(report, { status: 'changed', changed: true, message: `would: ${report.changes.join('; ')}` });
          anyChanged = true;
          continue;
        }
        try {
          const changed = await applyStep(at, step, plan.changes, session, connector, {
            adminUser, adminKey, windowSec: opts.playbook.guardWindow, systemd: facts.init === 'systemd', progress, report,
            movedTo: (port) => (at = { ...at, port }),
            replaceSession: (s) => {
              // the old connection may still be up (the firewall kept it): it must not outlive the run
              session?.close();
              session = s;
            },
          });
          if (changed) {
            Object.assign(report, { status: 'changed', changed: true, message: report.changes.join('; ') });
            anyChanged = true;
            progress('re-reading facts');
            facts = await gatherFacts(session, { adminUser });
          } else {
            if (report.message === 'compliant') report.message = 'compliant (checked on the host)';
            report.changes = undefined;
            report.diff = undefined;
          }
        } catch (e) {
          report.status = e instanceof RolledBackError ? 'rolled-back' : 'failed';
          report.message = e instanceof Error ? e.message : String(e);
          return { ...failure(spec, e, steps), error: `${step.id}: ${report.message}` };
        }
      } finally {
        if (steps[stepIndex]) steps[stepIndex]!.ms = Date.now() - stepStarted;
      }
    }
    return { status: anyChanged ? 'changed' : 'ok', address: spec.address, batch: 0, steps, ...timings };
  } catch (e) {
    return failure(spec, e, steps);
  } finally {
    session?.close();
  }
}

/**
 * Every step planned on the facts as found, before anything changes: a step that refuses this host
 * (see StepRefusedError) fails it while it is still untouched, not after the steps before it ran.
 */
function preflight(steps: PlaybookStep[], facts: HostFacts, vars: Record<string, unknown>): { step: string; error: StepRefusedError } | undefined {
  for (const step of steps) {
    try {
      step.def.plan(facts, { vars, settings: step.settings });
    } catch (e) {
      if (e instanceof StepRefusedError) return { step: step.id, error: e };
      throw e;
    }
  }
  return undefined;
}

interface ApplyCtx {
  adminUser?: string;
  adminKey?: string;
  windowSec: number;
  systemd: boolean;
  progress(m: string): void;
  report: StepReport;
  /** sshd now answers on this port (a proven port move). */
  movedTo(port: number): void;
  replaceSession(s: Session): void;
}

async function applyStep(spec: HostSpec, step: PlaybookStep, changes: Change[], session: Session, connector: Connector, ctx: ApplyCtx): Promise<boolean> {
  if (changes.some((c) => c.guard)) {
    if (!ctx.adminUser || !ctx.adminKey) {
      throw new LoginNotProvenError(
        `${step.id} can lock the operator out, and no admin login can be proven: set admin_user and admin_private_key_file in the playbook or inventory vars`,
      );
    }
    const { adminUser, adminKey } = ctx;
    const port = await applyGuarded(spec.name, step.id, changes, {
      main: session,
      windowSec: ctx.windowSec,
      systemd: ctx.systemd,
      progress: ctx.progress,
      async proveLogin(port) {
        const fresh = await connector.openAs(spec, adminUser, [adminKey], port);
        try {
          await fresh.exec('sudo -n true');
        } finally {
          fresh.close();
        }
      },
      async reconnect() {
        const s = await connector.open(spec);
        ctx.replaceSession(s);
        return s;
      },
    });
    if (port !== undefined && port !== spec.port) ctx.movedTo(port);
    return true;
  }
  // What the host says it did replaces the plan's words: only it knew (e.g. which updates were pending).
  const done: string[] = [];
  const checked: string[] = [];
  for (const c of changes) {
    ctx.progress(c.summary);
    const out = await c.apply(session);
    if (out && out.warnings) ctx.report.warnings!.push(...out.warnings);
    if (!out || out.changed) done.push(out?.message ?? c.summary);
    else if (out.message) checked.push(out.message);
    await c.verify?.(session);
  }
  if (done.length) ctx.report.changes = done;
  else if (checked.length) ctx.report.message = checked.join('; ');
  return done.length > 0;
}

