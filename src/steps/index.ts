/** Every hardening step by id, in the order a playbook usually lists them. */
import { adminUserStep } from './admin-user.js';
import { dockerDaemonStep } from './docker-daemon.js';
import { firewallStep } from './firewall.js';
import { packagesMinimalStep } from './packages.js';
import { securityUpdatesStep } from './security-updates.js';
import { servicesStep } from './services.js';
import { sshdStep } from './sshd.js';
import type { StepDefinition } from './types.js';

export const steps: Record<string, StepDefinition> = Object.fromEntries(
  [packagesMinimalStep, securityUpdatesStep, adminUserStep, sshdStep, servicesStep, dockerDaemonStep, firewallStep].map((s) => [s.id, s]),
);

export type { StepDefinition, Change, Plan, PlanContext, ApplyOutcome } from './types.js';
export { StepRefusedError } from './types.js';
