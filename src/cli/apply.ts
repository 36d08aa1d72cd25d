/** `hardfleet apply` and its read-only twin `hardfleet plan`. */
import type { CommandModule } from 'yargs';
import { InventoryError, UsageError } from '../core/errors.js';
import { knownVarsProblem, loadPlaybook, selectSteps, type Playbook, type PlaybookStep } from '../playbook/load.js';
import { readInputFile } from '../core/files.js';
import type { HostSpec } from '../core/host.js';
import { parseExtraVars } from '../playbook/extra-vars.js';
import { parseSerial } from '../engine/batching.js';
import { rollout } from '../engine/rollout.js';
import { hostVars, runPlaybookOnHost } from '../engine/host-run.js';
import { liveView } from '../ui/live.js';
import { batches } from '../engine/batching.js';
import { BUDGET_NUMBERS, budgetOptions, checkBudget, HOST_FLAGS, connectOptions, hostOptions, interruptHandler, makeConnector, positiveInt, selectFromArgs, type BudgetArgs, type HostArgs } from './common.js';
import { checkJsonTarget, finishRun } from './report-out.js';
import { checkFlags } from './argv.js';

interface ApplyArgs extends HostArgs, BudgetArgs {
  playbook: string;
  check: boolean;
  diff: boolean;
  tags?: string[];
  'skip-tags'?: string[];
  'extra-vars'?: string[];
  serial?: string;
  'guard-window'?: number;
}

function applyCommand(check: boolean): CommandModule<object, ApplyArgs> {
  return {
    command: `${check ? 'plan' : 'apply'} [playbook]`,
    describe: check ? 'show per host what apply would change, with diffs; change nothing' : 'harden the selected hosts in rolling batches',
    builder: (y) =>
      budgetOptions(hostOptions(y))
        .positional('playbook', { type: 'string', default: 'playbooks/docker-host.yml', describe: 'the playbook (YAML): what a hardened host looks like' })
        .option('check', check ? { hidden: true } : { alias: 'C', type: 'boolean', default: false, describe: 'change nothing: show what would change (= plan)' })
        .option('diff', { alias: 'D', type: 'boolean', default: check, describe: 'show unified diffs of every file' })
        .option('tags', { alias: 't', type: 'string', requiresArg: true, describe: 'only steps with these tags (repeat, or comma separate)' })
        .option('skip-tags', { type: 'string', requiresArg: true, describe: 'skip steps with these tags (repeat, or comma separate)' })
        .option('extra-vars', { alias: 'e', type: 'string', requiresArg: true, describe: 'key=value, a YAML mapping, or @file.yml (repeatable); wins over playbook and inventory vars' })
        .option('serial', { type: 'string', requiresArg: true, describe: 'batch sizes, Ansible style: 5, 25%, or 1,5,25%' })
        .option('guard-window', { requiresArg: true, describe: 'seconds (15 to 3600) before an unproven SSH/firewall change rolls itself back' }) as never,
    handler: async (a) => {
      // plan is read-only whatever its flags say (--no-check must not turn it into apply).
      if (check && a.check === false) throw new UsageError('plan never changes hosts: --no-check does not apply to it', undefined, undefined, 'run hardfleet apply to make the changes');
      if (check) a.check = true;
      checkFlags(a as unknown as Record<string, unknown>, {
        lists: { ...HOST_FLAGS.lists, tags: { commas: true }, 'skip-tags': { commas: true }, 'extra-vars': { commas: false } },
        numbers: [...HOST_FLAGS.numbers, ...BUDGET_NUMBERS, 'guard-window'],
        positionals: { ...HOST_FLAGS.positionals, playbook: 'the playbook path' },
      });
      const pb = loadPlaybook(a.playbook);
      const steps = selectSteps(pb.steps, a.tags, a['skip-tags']);
      const extraVars = parseExtraVars(a['extra-vars']);
      const hosts = selectFromArgs(a, pb.hosts, `${pb.file}: hosts:`);
      checkHostVars(pb, hosts, extraVars);
      const forks = positiveInt('forks', a.forks ?? pb.forks, 20);
      const serial = a.serial !== undefined ? parseSerial(a.serial, '--serial') : pb.serial;
      if (a['guard-window'] !== undefined) {
        const w = a['guard-window'];
        if (!(Number.isInteger(w) && w >= 15 && w <= 3600)) throw new UsageError(`--guard-window ${w}: give a whole number of seconds from 15 to 3600`);
        pb.guardWindow = a['guard-window'];
      }
      checkBudget(a);
      checkJsonTarget(a.json);
      if (!a.check) checkAdminLogin(pb, steps, hosts, extraVars);
      const varsOf = (spec: HostSpec) => hostVars(pb, spec, extraVars);
      const connector = makeConnector(await connectOptions(a, hosts, (h) => varsOf(h).admin_private_key_file), varsOf);
      const plan = batches(hosts, serial, forks);
      const view = liveView(plan.map((b) => b.map((h) => h.name)), a.check, a.json === '-');
      const stop = interruptHandler(() => process.exit(3));
      const report = await rollout(
        hosts,
        { serial, forks, maxFailPercent: a['max-fail-percent'] ?? pb.maxFailPercent, maxFail: a['max-fail'] ?? pb.maxFail, failFast: a['fail-fast'], check: a.check, stop: stop.signal },
        async (host) => {
          const t0 = Date.now();
          const r = await runPlaybookOnHost(host, connector, { playbook: pb, steps, check: a.check, diff: a.diff, extraVars, progress: (h, m) => view.progress(h, m) });
          return { ...r, ms: Date.now() - t0 };
        },
        { hostDone: (h, r) => view.hostDone(h, r) },
      );
      await view.finish();
      process.exitCode = finishRun(report, { json: a.json, diff: a.diff });
    },
  };
}

/** Vars the steps read, checked where they were set before any host is touched: -e first, then each host's merge. */
function checkHostVars(pb: Playbook, hosts: HostSpec[], extraVars: Record<string, unknown>): void {
  const extra = knownVarsProblem(extraVars);
  if (extra) throw new UsageError(`--extra-vars ${extra}`);
  for (const h of hosts) {
    // -e wins over the inventory, so a value it overrides is no problem (and -e was checked above).
    const problem = knownVarsProblem(hostVars(pb, h, extraVars));
    if (problem) throw new InventoryError(`host "${h.name}": ${problem}`, h.source?.file, h.source?.line, 'set it in the vars of this host or of one of its groups, or override it with -e');
  }
}

/**
 * A guarded step proves a fresh admin login before and after its change: without a key to log in
 * with, every host would fail there, after the steps before it had changed it. Refused up front.
 */
function checkAdminLogin(pb: Playbook, steps: PlaybookStep[], hosts: HostSpec[], extraVars: Record<string, unknown>): void {
  const guarded = steps.filter((s) => s.def.guarded).map((s) => s.id);
  if (!guarded.length) return;
  for (const h of hosts) {
    const vars = hostVars(pb, h, extraVars);
    for (const key of ['admin_user', 'admin_private_key_file'] as const) {
      if (typeof vars[key] !== 'string') {
        throw new UsageError(
          `host "${h.name}": ${guarded.join(' and ')} can lock the operator out, and ${key} is not set, so no admin login can be proven`,
          pb.file, undefined, `set ${key} in the playbook or inventory vars (or -e ${key}=…), or skip those steps with --skip-tags login`,
        );
      }
    }
    const key = vars.admin_private_key_file as string;
    try {
      readInputFile(key);
    } catch (e) {
      const from = 'admin_private_key_file' in extraVars ? '--extra-vars' : h.source?.file ?? pb.file;
      throw new UsageError(`host "${h.name}": admin_private_key_file ${key} (from ${from}): ${(e as Error).message}`, undefined, undefined,
        'point it at the private key of one of admin_keys: the guard logs in with it before and after every SSH or firewall change');
    }
  }
}

export const applyCmd = applyCommand(false);
export const planCmd = applyCommand(true);
