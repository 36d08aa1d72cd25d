/** yargs definition of `hardfleet lab …`. */
import type { Argv, CommandModule } from 'yargs';
import { labConsole, labDown, labLink, labReboot, labStatus, labUp } from '../lab/lab.js';

const log = (msg: string) => process.stderr.write(`[lab] ${msg}\n`);

interface LabArgs {
  name: string;
}

function withName<T>(y: Argv<T>) {
  return y.option('name', { type: 'string', default: 'lab', describe: 'which lab (several can be up at once)' });
}

export const labCommand: CommandModule<object, LabArgs> = {
  command: 'lab',
  describe: 'boot and inspect a fleet of real Debian hosts on this machine (needs root)',
  builder: (y) =>
    withName(y)
      .command({
        command: 'up',
        describe: 'boot the lab (idempotent; cleans what a crashed run left)',
        builder: (y2) =>
          y2
            .option('hosts', { type: 'number', default: 4, describe: 'how many hosts' })
            .option('kind', { choices: ['full', 'light'] as const, default: 'full' as const, describe: 'full: systemd, sshd, Docker; light: sshd alone (scale tests)' })
            .option('inventory', { type: 'string', describe: 'where to write the inventory (default inventory/NAME.yml)' })
            .option('fresh', { type: 'boolean', default: false, describe: 'rebuild the hosts even when the same lab is already up' }),
        handler: async (a) => {
          await labUp({ name: a.name as string, hosts: a.hosts, kind: a.kind, inventoryFile: a.inventory ?? `inventory/${a.name}.yml`, fresh: a.fresh, log });
        },
      })
      .command({
        command: 'down',
        describe: 'stop every host and remove everything the lab made',
        handler: async (a) => {
          await labDown(a.name as string, log);
        },
      })
      .command({
        command: 'status',
        describe: 'list the hosts and whether they run',
        builder: (y2) => y2.option('json', { type: 'boolean', default: false }),
        handler: async (a) => {
          const s = await labStatus(a.name as string);
          if (!s) {
            log(`no lab named ${a.name} is up`);
            process.exitCode = 1;
            return;
          }
          if (a.json) {
            process.stdout.write(JSON.stringify(s.hosts, null, 2) + '\n');
            return;
          }
          const rows = s.hosts.map((h) => [h.name, h.kind, h.state, h.ipv4, h.ipv6, [...h.groups, ...h.tags].join(',')]);
          const head = ['HOST', 'KIND', 'STATE', 'IPV4', 'IPV6', 'GROUPS/TAGS'];
          const w = head.map((_, i) => Math.max(head[i].length, ...rows.map((r) => r[i].length)));
          for (const r of [head, ...rows]) process.stdout.write(r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd() + '\n');
        },
      })
      .command({
        command: 'console <host> [command..]',
        describe: 'run a command inside a host without SSH (like a serial console): lab console web1 -- sshd -T',
        builder: (y2) => y2.positional('host', { type: 'string', demandOption: true }).positional('command', { type: 'string', array: true }),
        handler: async (a) => {
          const cmd = ((a.command as string[] | undefined) ?? []).concat(((a['--'] as string[] | undefined) ?? []).map(String));
          const r = await labConsole(a.name as string, a.host as string, cmd, { inherit: true });
          process.exitCode = r.code ?? 1;
        },
      })
      .command({
        command: 'cut <host>',
        describe: "take the host's network link down (fault tests)",
        handler: async (a) => labLink(a.name as string, String(a.host), false),
      })
      .command({
        command: 'heal <host>',
        describe: "bring the host's network link back up",
        handler: async (a) => labLink(a.name as string, String(a.host), true),
      })
      .command({
        command: 'reboot <host>',
        describe: 'reboot the host from inside and wait until it answers SSH again',
        handler: async (a) => labReboot(a.name as string, String(a.host), log),
      })
      .demandCommand(1, 'say what to do with the lab: up, down, status, console, cut, heal or reboot'),
  handler: () => {},
};
