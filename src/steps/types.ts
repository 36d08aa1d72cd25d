/**
 * The shape of a hardening step (after pyinfra): facts in, a plan out, pure. A change knows how to
 * describe itself, how to apply itself and how to verify itself. An empty plan means compliant.
 */
import type { Remote } from '../core/remote.js';
import type { HostFacts } from '../facts/types.js';
import { HardfleetError } from '../core/errors.js';

export type Guard = 'login';

export interface FileDiff {
  path: string;
  before: string | null;
  after: string | null;
}

export interface Change {
  /** One line for the recap, e.g. "set PasswordAuthentication no (drop-in 00-hardfleet.conf)". */
  summary: string;
  /** File changes this change makes, for --diff and check mode. */
  files?: FileDiff[];
  /** Changes that can lock the operator out run under the SSH guard (fresh-login proof + rollback timer). */
  guard?: Guard;
  /** Paths the on-host rollback must restore if the guard fires (files), for guarded changes. */
  backupPaths?: string[];
  /**
   * After this change is applied (and verified), the engine must prove a fresh SSH login on this
   * port before it runs the changes that follow in the plan (e.g. before the old SSH port closes).
   */
  proveLoginOn?: number;
  /** Extra shell run by the rollback after files are restored (e.g. iptables-restore, reload sshd). */
  rollbackScript?: string;
  /**
   * Run the change. Resolving with nothing means "changed". A change whose need only the host can
   * tell (pending security updates) resolves `{ changed: false }` when it found nothing to do.
   */
  apply(remote: Remote): Promise<void | ApplyOutcome>;
  /** Confirm the host is now as planned; throw a HostError/RemoteCommandError with what differs. */
  verify?(remote: Remote): Promise<void>;
}

export interface ApplyOutcome {
  changed: boolean;
  /** What was actually done, when only the host could tell (replaces the plan's summary in the recap). */
  message?: string;
  /** Things learnt on the host, for the recap (e.g. "reboot required", "no security advisories published"). */
  warnings?: string[];
}

/**
 * Thrown by `plan` when applying the step on this host would be unsafe (e.g. the admin user has no
 * key, so disabling passwords would lock everyone out). The engine plans every step before it
 * changes anything and fails the host untouched, so a refusal must rest on the vars and on host
 * state that no other step changes.
 */
export class StepRefusedError extends HardfleetError {}

export interface StepResult {
  status: 'ok' | 'changed' | 'failed' | 'rolled-back' | 'skipped' | 'n/a';
  changes: Change[];
  warnings: string[];
  message?: string;
}

export interface PlanContext {
  /** Merged vars: playbook vars < inventory vars < --extra-vars. */
  vars: Record<string, unknown>;
  /** The step's own settings from the playbook. */
  settings: Record<string, unknown>;
}

export interface Plan {
  changes: Change[];
  /** Things the operator should know though nothing changes (e.g. a Match block still allows passwords). */
  warnings: string[];
  /** Set when the step does not apply to this host (light lab host without systemd, no Docker). */
  notApplicable?: string;
}

export interface StepDefinition {
  id: string;
  /** Default tags for --tags/--skip-tags. */
  tags: string[];
  /** zod schema of the step's settings (validated when the playbook loads). */
  settingsSchema: import('zod').ZodType;
  plan(facts: HostFacts, ctx: PlanContext): Plan;
  /**
   * Its changes can lock the operator out and run under the SSH guard: a run that applies it
   * needs an admin login to prove (admin_user, admin_private_key_file), checked before it starts.
   */
  guarded?: boolean;
}
