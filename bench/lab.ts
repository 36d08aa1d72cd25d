/** The bench's use of `hardfleet lab`: only labs named bench*, through the CLI like an operator. */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, REPO } from './paths.js';

export interface Exec {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function exec(argv: string[], opts: { input?: Buffer | string; env?: NodeJS.ProcessEnv } = {}): Promise<Exec> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => err.push(Buffer.from(String(e))));
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), ms: performance.now() - t0 }));
    child.stdin.end(opts.input);
  });
}

export async function must(argv: string[], what: string, opts: { input?: Buffer | string } = {}): Promise<Exec> {
  const r = await exec(argv, opts);
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}`);
  return r;
}

const LABS_ROOT = process.env.HARDFLEET_LAB_ROOT ?? '/var/lib/hardfleet/labs';

export function checkLabName(name: string): void {
  if (!/^bench[a-z0-9-]*$/.test(name)) throw new Error(`the bench only touches labs named bench*, not ${name}`);
}

export async function labUp(name: string, hosts: number, kind: 'full' | 'light', inventory: string, fresh: boolean): Promise<number> {
  checkLabName(name);
  const r = await must(['node', CLI, 'lab', 'up', '--name', name, '--hosts', String(hosts), '--kind', kind, '--inventory', inventory, ...(fresh ? ['--fresh'] : [])], `lab up ${name}`);
  return r.ms;
}

export async function labDown(name: string): Promise<void> {
  checkLabName(name);
  await must(['node', CLI, 'lab', 'down', '--name', name], `lab down ${name}`);
}

export function labConsole(name: string, host: string, script: string, input?: Buffer): Promise<Exec> {
  checkLabName(name);
  return exec(['node', CLI, 'lab', '--name', name, 'console', host, '--', script], { input });
}

export async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Full hosts answer SSH before systemd is done (Docker still starting): wait for the boot to end. */
export async function waitBooted(name: string, hosts: string[]): Promise<void> {
  await forEachLimit(hosts, 10, async (h) => {
    const r = await labConsole(name, h, 'systemctl is-system-running --wait >/dev/null; docker info >/dev/null 2>&1 && systemctl is-active -q ssh');
    if (r.code !== 0) throw new Error(`${h} did not finish booting: ${r.stderr.trim()}`);
  });
}

/**
 * What a real server has that a fresh lab host lacks, done on every fresh full host before either
 * tool runs:
 * - python3-apt: Ansible's apt module needs it and a real Debian server gets it from its mirror on
 *   first use; the lab hosts reach no mirror, so the bench installs Debian's package (downloaded
 *   once with apt-get download). The files go in through the host's root filesystem, mounted on
 *   the machine (the lab's state says where).
 * (The lab image itself dates its empty package lists long ago, so Ansible's cache_valid_time
 * refreshes them as on a server set up days ago.)
 */
export async function prepareFullHosts(name: string, hosts: string[], debDir: string): Promise<void> {
  checkLabName(name);
  const state = JSON.parse(readFileSync(join(LABS_ROOT, name, 'state.json'), 'utf8')) as { hosts: Array<{ name: string; mountpoint?: string }> };
  await forEachLimit(hosts, 10, async (h) => {
    const root = state.hosts.find((x) => x.name === h)?.mountpoint;
    if (!root) throw new Error(`${h}: the lab state records no root filesystem`);
    const inside = '/var/cache/hardfleet-bench-debs';
    mkdirSync(join(root, inside), { recursive: true });
    for (const f of readdirSync(debDir)) cpSync(join(debDir, f), join(root, inside, f));
    const r = await labConsole(name, h, `dpkg -i ${inside}/*.deb >/dev/null && rm -rf ${inside}`);
    if (r.code !== 0) throw new Error(`preparing ${h}: ${r.stderr.trim()}`);
  });
}

/** Labs of other engineers that are up now (for the results: was the machine shared?). */
export function otherLabs(): string[] {
  const root = LABS_ROOT;
  try {
    return readdirSync(root).filter((n) => !n.startsWith('bench')).filter((n) => {
      try {
        return JSON.parse(readFileSync(join(root, n, 'state.json'), 'utf8')).hosts.length > 0;
      } catch {
        return false;
      }
    });
  } catch {
    return [];
  }
}
