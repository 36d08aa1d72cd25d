/** `hardfleet run [pattern] -- COMMAND`: an ad-hoc command on every selected host (like ansible -m raw). */
import type { CommandModule } from 'yargs';
import { UsageError, RemoteCommandError } from '../core/errors.js';
import { failure } from '../engine/failure.js';
import { rollout } from '../engine/rollout.js';
import { parseSerial } from '../engine/batching.js';
import { plainOutput } from '../ui/terminal.js';
import { BUDGET_NUMBERS, budgetOptions, checkBudget, HOST_FLAGS, connectOptions, hostOptions, interruptHandler, makeConnector, positiveInt, selectFromArgs, type BudgetArgs, type HostArgs } from './common.js';
import { checkJsonTarget, finishRun } from './report-out.js';
import { checkFlags } from './argv.js';

interface RunArgs extends HostArgs, BudgetArgs {
  pattern?: string;
  command?: string[];
  become: boolean;
  timeout: number;
  serial?: string;
}

export const runCmd: CommandModule<object, RunArgs> = {
  command: 'run [pattern]',
  describe: 'run a shell command on every selected host: hardfleet run web -- uptime',
  builder: (y) =>
    budgetOptions(hostOptions(y))
      .positional('pattern', { type: 'string', describe: 'hosts or groups (like --limit)' })
      .option('become', { alias: 'b', type: 'boolean', default: false, describe: 'run through sudo -n' })
      .option('timeout', { requiresArg: true, default: 300, describe: 'seconds before the command is killed on the host' })
      .option('serial', { type: 'string', requiresArg: true, describe: 'batch sizes (default: everything at once, forks at a time)' }) as never,
  handler: async (a) => {
    checkFlags(a as unknown as Record<string, unknown>, { ...HOST_FLAGS, numbers: [...HOST_FLAGS.numbers, ...BUDGET_NUMBERS, 'timeout'] });
    const words = ((a as unknown as { '--'?: string[] })['--'] ?? []).map(String);
    const command = words.join(' ');
    if (command.trim() === '') throw new UsageError('give the command after --, e.g. hardfleet run web -- uptime');
    checkBudget(a);
    checkJsonTarget(a.json);
    const hosts = selectFromArgs(a, a.pattern);
    const forks = positiveInt('forks', a.forks, 50);
    const serial = a.serial !== undefined ? parseSerial(a.serial, '--serial') : hosts.length;
    if (!(a.timeout > 0)) throw new UsageError(`--timeout ${a.timeout}: give a number of seconds above 0`);
    const connector = makeConnector(await connectOptions(a, hosts));
    const stop = interruptHandler(() => process.exit(3));
    // Output streams live (host-prefixed) unless stdout is the JSON report; the report always keeps it.
    const stream = a.json !== '-' && (plainOutput() || hosts.length <= 20);
    const report = await rollout(
      hosts,
      { serial, forks, maxFailPercent: a['max-fail-percent'], maxFail: a['max-fail'], failFast: a['fail-fast'], stop: stop.signal },
      async (host) => {
        const t0 = Date.now();
        let session;
        try {
          session = await connector.open(host);
          const r = await session.exec(command, {
            sudo: a.become, timeoutMs: a.timeout * 1000, allowFailure: true,
            onData: stream ? (s, chunk) => (s === 'stdout' ? process.stdout : process.stderr).write(chunk.replace(/^(?=.)/gm, `${host.name} | `)) : undefined,
          });
          const ok = r.code === 0;
          return {
            status: ok ? 'ok' : 'failed', address: host.address, batch: 0, steps: [], ms: Date.now() - t0,
            stdout: r.stdout, stderr: r.stderr, exitCode: r.code,
            error: ok ? undefined : new RemoteCommandError(r, 'command').message,
          };
        } catch (e) {
          return { ...failure(host, e), ms: Date.now() - t0 };
        } finally {
          session?.close();
        }
      },
    );
    process.exitCode = finishRun(report, { json: a.json, diff: false, outputShown: stream });
  },
};
