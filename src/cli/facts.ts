/** `hardfleet facts`: what the engine knows of each host, gathered in one round trip. */
import type { CommandModule } from 'yargs';
import { gatherFacts } from '../facts/gather.js';
import { failure } from '../engine/failure.js';
import { rollout } from '../engine/rollout.js';
import { connectOptions, HOST_FLAGS, hostOptions, makeConnector, positiveInt, selectFromArgs, type HostArgs } from './common.js';
import { exitCode, totalsLine } from '../engine/report.js';
import { checkJsonTarget, writeJson } from './report-out.js';
import { checkFlags } from './argv.js';

interface FactsArgs extends HostArgs {
  pattern?: string;
}

export const factsCmd: CommandModule<object, FactsArgs> = {
  command: 'facts [pattern]',
  describe: 'print the facts of the selected hosts (--json for machines)',
  builder: (y) => hostOptions(y).positional('pattern', { type: 'string', describe: 'hosts or groups (like --limit)' }) as never,
  handler: async (a) => {
    checkFlags(a as unknown as Record<string, unknown>, HOST_FLAGS);
    const hosts = selectFromArgs(a, a.pattern);
    checkJsonTarget(a.json);
    const connector = makeConnector(await connectOptions(a, hosts));
    const facts: Record<string, unknown> = {};
    const report = await rollout(hosts, { serial: hosts.length, forks: positiveInt('forks', a.forks, 50) }, async (host) => {
      let s;
      try {
        s = await connector.open(host);
        facts[host.name] = await gatherFacts(s, { adminUser: typeof host.vars.admin_user === 'string' ? host.vars.admin_user : undefined });
        return { status: 'ok', address: host.address, batch: 0, steps: [] };
      } catch (e) {
        return failure(host, e);
      } finally {
        s?.close();
      }
    });
    const failed = Object.entries(report.hosts).filter(([, h]) => h.error);
    const out = { facts, errors: Object.fromEntries(failed.map(([n, h]) => [n, h.error])) };
    // Facts are data: JSON is how they print. --json FILE also records the errors beside them.
    if (a.json && a.json !== '-') writeJson(a.json, JSON.stringify(out, null, 2) + '\n');
    else process.stdout.write(JSON.stringify(a.json === '-' ? out : facts, null, 2) + '\n');
    for (const [n, h] of failed) process.stderr.write(`${n}: ${h.error}\n${h.hint ? `  hint: ${h.hint}\n` : ''}`);
    process.stderr.write(totalsLine(report.summary) + '\n');
    process.exitCode = exitCode(report);
  },
};
