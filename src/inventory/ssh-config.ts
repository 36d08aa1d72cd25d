/**
 * What the operator's ssh_config says about a host, so that `ssh web1` and hardfleet reach the
 * same machine. Reading it must never run anything: `Match exec` blocks and host name
 * canonicalisation (which runs nslookup in the ssh-config package) are dropped before computing.
 */
import { existsSync } from 'node:fs';
import { readInputFile } from '../core/files.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import SSHConfig, { glob, LineType, type Line } from 'ssh-config';
import { InventoryError } from '../core/errors.js';

export interface SshHostConfig {
  hostName?: string;
  port?: number;
  user?: string;
  identityFiles?: string[];
  knownHostsFiles?: string[];
  /** ProxyJump hops, first hop first; absent for none. */
  proxyJump?: string[];
}

export interface SshConfig {
  /** The file read, if any. */
  file?: string;
  lookup(host: string): SshHostConfig;
  /** Whether a Host block names this alias (a `Host *` catch-all does not count). */
  knows(alias: string): boolean;
}

export function expandHome(p: string): string {
  if (p === '~') return homedir();
  return p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
}

/** Read `file`, or ~/.ssh/config when it exists. A file named explicitly must exist. */
export function readSshConfig(file?: string): SshConfig {
  const path = file ?? join(homedir(), '.ssh', 'config');
  if (!existsSync(path)) {
    if (file) throw new InventoryError(`ssh_config file not found: ${file}`, file);
    return { lookup: () => ({}), knows: () => false };
  }
  let text: string;
  try {
    text = readInputFile(path);
  } catch (e) {
    throw new InventoryError(`${file ? `--ssh-config ${file}` : path}: cannot read it: ${(e as Error).message}`, path);
  }
  return parseSshConfig(text, path);
}

export function parseSshConfig(text: string, file?: string): SshConfig {
  const config = SSHConfig.parse(text);
  while (config.remove((line: Line) => 'criteria' in line && Object.keys(line.criteria).some((k) => /^exec$/i.test(k))));
  for (const line of config) {
    if (isSection(line)) line.config.remove((sub: Line) => sub.type === LineType.DIRECTIVE && /^canonicalizehostname$/i.test(sub.param));
  }

  const hostPatterns: string[][] = config
    .filter((l) => isSection(l) && /^host$/i.test(l.param))
    .map((l) => values((l as Section).value).filter((p) => p !== '*'));

  return {
    file,
    knows: (alias) => hostPatterns.some((patterns) => patterns.length > 0 && glob(patterns, alias)),
    lookup(host) {
      const c = config.compute(host, { ignoreCase: true, matchExec: false });
      const out: SshHostConfig = {};
      const first = (k: string) => {
        const v = c[k];
        return Array.isArray(v) ? v[0] : v;
      };
      const hostName = first('hostname');
      if (hostName) out.hostName = hostName.replace(/%h/g, host);
      const port = first('port');
      if (port !== undefined) {
        const n = Number(port);
        if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InventoryError(`ssh_config: Port ${port} for ${host} is not a port number`, file);
        out.port = n;
      }
      const user = first('user');
      if (user) out.user = user;
      const ids = c.identityfile;
      if (ids) out.identityFiles = ([] as string[]).concat(ids).map(expandHome);
      const known = first('userknownhostsfile');
      if (known) out.knownHostsFiles = known.split(/\s+/).filter(Boolean).map(expandHome);
      const jump = first('proxyjump');
      if (jump && jump.toLowerCase() !== 'none') out.proxyJump = jump.split(',').map((h) => h.trim()).filter(Boolean);
      return out;
    },
  };
}

type Section = Extract<Line, { config: SSHConfig }>;

function isSection(line: Line): line is Section {
  return line.type === LineType.DIRECTIVE && 'config' in line;
}

function values(v: Section['value']): string[] {
  return Array.isArray(v) ? v.map((x) => x.val) : v.split(/\s+/);
}
