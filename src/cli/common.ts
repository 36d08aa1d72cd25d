/** Options shared by the commands that reach hosts, and how they become an inventory, a selection and a connector. */
import { existsSync } from 'node:fs';
import type { Argv } from 'yargs';
import { AuthFailedError, isUnreachable, UsageError } from '../core/errors.js';
import { varPort } from '../steps/util.js';
import type { HostSpec } from '../core/host.js';
import { loadInventory } from '../inventory/load.js';
import { selectHosts } from '../inventory/select.js';
import { noCredentials, SshConnection, type ConnectOptions } from '../ssh/index.js';
import type { Connector } from '../engine/host-run.js';
import type { FlagRules } from './argv.js';
import { keyFilesOf, withSecrets } from './secrets.js';

export function hostOptions<T>(y: Argv<T>) {
  return y
    .option('inventory', { alias: 'i', type: 'string', requiresArg: true, describe: 'inventory file (Ansible YAML layout); repeat for several', default: 'inventory/lab.yml' })
    .option('limit', { alias: 'l', type: 'string', requiresArg: true, describe: 'hosts, groups, globs, !exclusions, comma separated' })
    .option('tag', { type: 'string', requiresArg: true, describe: 'only hosts with this tag or in this group (repeat, or comma separate: all of them)' })
    .option('exclude', { type: 'string', requiresArg: true, describe: 'leave these hosts or groups out (repeatable)' })
    .option('forks', { alias: 'f', requiresArg: true, describe: 'hosts worked on at once inside a batch (default 20)' })
    .option('ssh-config', { type: 'string', requiresArg: true, describe: 'ssh_config file to read HostName, Port, User, IdentityFile, ProxyJump from (default ~/.ssh/config)' })
    .option('accept-new', { type: 'boolean', default: false, describe: 'record unknown host keys (never changed ones), like StrictHostKeyChecking=accept-new' })
    .option('key-passphrase-env', { type: 'string', requiresArg: true, describe: 'name of an environment variable that holds the key passphrase (asked once on a terminal otherwise)' })
    .option('ask-become-pass', { alias: 'K', type: 'boolean', default: false, describe: 'ask once for the sudo password, for hosts whose sudo wants one' })
    .option('become-pass-env', { type: 'string', requiresArg: true, describe: 'name of an environment variable that holds the sudo password' })
    .option('connect-timeout', { requiresArg: true, default: 10, describe: 'seconds to wait for a connection' })
    .option('json', { type: 'string', requiresArg: true, describe: 'write the JSON report to FILE (- for stdout)' });
}

/** How checkFlags reads the options above. */
export const HOST_FLAGS = {
  lists: { inventory: { commas: false }, tag: { commas: true }, exclude: { commas: false } },
  numbers: ['forks', 'connect-timeout'],
  positionals: { pattern: 'the host pattern' },
} satisfies FlagRules;

/** The failure budget of a rollout, the same for apply/plan and run. */
export function budgetOptions<T>(y: Argv<T>) {
  return y
    .option('max-fail-percent', { requiresArg: true, describe: 'stop when more than P% of a batch fails (0 to 100)' })
    .option('max-fail', { requiresArg: true, describe: 'stop when more than N hosts have failed in the run' })
    .option('fail-fast', { type: 'boolean', default: false, describe: 'stop at the first failed host' });
}

export const BUDGET_NUMBERS = ['max-fail-percent', 'max-fail'];

export interface BudgetArgs {
  'max-fail-percent'?: number;
  'max-fail'?: number;
  'fail-fast': boolean;
}

export function checkBudget(a: BudgetArgs): void {
  const pct = a['max-fail-percent'];
  if (pct !== undefined && !(pct >= 0 && pct <= 100)) throw new UsageError(`--max-fail-percent ${pct}: give a percentage from 0 to 100`);
  const n = a['max-fail'];
  if (n !== undefined && !(Number.isInteger(n) && n >= 0)) throw new UsageError(`--max-fail ${n}: give a whole number of hosts, 0 or more`);
}

export interface HostArgs {
  inventory: string[];
  limit?: string;
  tag?: string[];
  exclude?: string[];
  forks?: number;
  'ssh-config'?: string;
  'accept-new': boolean;
  'key-passphrase-env'?: string;
  'ask-become-pass'?: boolean;
  'become-pass-env'?: string;
  'connect-timeout': number;
  json?: string;
}

/** The hosts of a command: its own pattern (`hosts:` of the playbook, `run PATTERN`), narrowed by the flags. */
export function selectFromArgs(a: HostArgs, pattern?: string, patternLabel?: string): HostSpec[] {
  const inv = loadInventory(a.inventory, { sshConfigFile: a['ssh-config'] });
  return selectHosts(inv, { pattern, patternLabel, limit: a.limit, tags: a.tag, exclude: a.exclude });
}

export function positiveInt(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${name} ${v}: give a whole number of 1 or more`);
  return v;
}

/** Connection settings from the flags, with the secrets asked for once (see secrets.ts). */
export async function connectOptions(a: HostArgs, hosts: HostSpec[], adminKeyOf?: (h: HostSpec) => unknown): Promise<ConnectOptions> {
  if (!(a['connect-timeout'] > 0)) throw new UsageError(`--connect-timeout ${a['connect-timeout']}: give a number of seconds above 0`);
  checkCredentials(hosts, adminKeyOf);
  return withSecrets({ acceptNew: a['accept-new'], connectTimeoutMs: a['connect-timeout'] * 1000 }, a, keyFilesOf(hosts, adminKeyOf));
}

/**
 * A host (or a jump host on its way) whose every identity file is missing, with no ssh-agent to
 * fall back on, can only fail: that is the inventory's mistake, refused before any connection.
 * (Like OpenSSH, a missing file among others that exist is skipped; a host's admin key counts, as
 * the connector falls back to the admin when the inventory user is refused.)
 */
function checkCredentials(hosts: HostSpec[], adminKeyOf: (h: HostSpec) => unknown = (h) => h.vars.admin_private_key_file): void {
  const agent = process.env.SSH_AUTH_SOCK;
  if (agent && existsSync(agent)) return;
  const exists = new Map<string, boolean>();
  const has = (f: string) => exists.get(f) ?? (exists.set(f, existsSync(f)), exists.get(f)!);
  for (const top of hosts) {
    for (let h: HostSpec | undefined = top; h; h = h.jump) {
      const admin = h === top ? adminKeyOf(h) : undefined;
      if (h.identityFiles.some(has) || (typeof admin === 'string' && has(admin))) continue;
      const e = noCredentials(h.name, h.user, h.identityFiles);
      throw new UsageError(`host "${h.name}"${h === top ? '' : ` (jump host of ${top.name})`}: ${e.message}`, h.source?.file, h.source?.line, e.hint);
    }
  }
}

/**
 * How a run reaches a host it may have hardened before: the inventory's user and port first; a
 * host that refuses that user (root, after hardening) is reached as its admin with sudo; a host
 * whose sshd moved (var sshd_port) is reached there. `varsOf` gives the merged vars of a host
 * (playbook < inventory < --extra-vars); by default the inventory's.
 */
export function makeConnector(opts: ConnectOptions, varsOf: (spec: HostSpec) => Record<string, unknown> = (s) => s.vars): Connector {
  const asUserOrAdmin = async (spec: HostSpec, vars: Record<string, unknown>, keysOfPort?: number) => {
    try {
      return await SshConnection.open(spec, { ...opts, keysOfPort });
    } catch (e) {
      if (!(e instanceof AuthFailedError)) throw e;
      const admin = adminLogin(vars);
      if (!admin) {
        if (spec.user !== 'root') throw e;
        throw new AuthFailedError(e.host, e.message, `${e.hint ? `${e.hint}; ` : ''}a host hardfleet hardened refuses root: set admin_user and admin_private_key_file to log in as its admin`);
      }
      if (admin.user === spec.user) throw e;
      if (!existsSync(admin.key)) {
        throw new AuthFailedError(e.host, `${e.message}; the admin key ${admin.key} does not exist`, 'fix admin_private_key_file: the private key of admin_keys');
      }
      try {
        return await SshConnection.open(spec, { ...opts, keysOfPort, user: admin.user, identityFiles: [admin.key] });
      } catch (e2) {
        // Both refusals count: the admin's is the one to act on when the host was hardened.
        if (!(e2 instanceof AuthFailedError)) throw e;
        throw new AuthFailedError(e.host, `${e.message}; as the admin ${admin.user}: ${e2.message}`, e2.hint);
      }
    }
  };
  return {
    async open(spec) {
      const vars = varsOf(spec);
      const moved = varPort(vars, 'sshd_port');
      try {
        return await asUserOrAdmin(spec, vars);
      } catch (e) {
        if (!isUnreachable(e) || moved === undefined || moved === spec.port) throw e;
        try {
          return await asUserOrAdmin({ ...spec, port: moved }, vars, spec.port);
        } catch {
          throw e;
        }
      }
    },
    openAs: (spec, user, identityFiles, port) =>
      SshConnection.open(port ? { ...spec, port } : spec, { ...opts, user, identityFiles, keysOfPort: port && port !== spec.port ? spec.port : undefined }),
  };
}

/** The admin login the playbook sets up (admin_user + admin_private_key_file), when the vars name one. */
export function adminLogin(vars: Record<string, unknown>): { user: string; key: string } | undefined {
  const user = vars.admin_user;
  const key = vars.admin_private_key_file;
  return typeof user === 'string' && typeof key === 'string' ? { user, key } : undefined;
}

/** First Ctrl-C: no new host starts, running ones finish. Second: stop now (hosts guard themselves). */
export function interruptHandler(onSecond: () => void): AbortController {
  const ac = new AbortController();
  let presses = 0;
  const handler = () => {
    presses++;
    if (presses === 1) {
      process.stderr.write('\ninterrupt: finishing running hosts, starting no new one (Ctrl-C again to abort now)\n');
      ac.abort();
    } else {
      process.stderr.write('\naborting: any armed rollback on a host restores it by itself\n');
      onSecond();
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return ac;
}
