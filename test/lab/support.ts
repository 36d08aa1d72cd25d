/**
 * Shared helpers for lab tests: they boot real hosts and check them out-of-band, through the lab
 * console (nsenter) or the OpenSSH client, never through the code under test.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { vi } from 'vitest';

export const ROOT = join(import.meta.dirname, '..', '..');

// A lab test waits on real hosts (apt, dockerd restarts, rollback windows): on a busy 2-core
// machine one apply can take minutes. Speed is measured in the bench, not here.
vi.setConfig({ testTimeout: 900_000 });
export const CLI = join(ROOT, 'dist', 'cli', 'index.js');

/** Why the lab cannot run here, or undefined when it can. */
export function labUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  for (const tool of ['systemd-nspawn', 'debootstrap', 'ip', 'nsenter', 'ssh', 'ssh-keygen', 'apt-ftparchive']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (run .ci/run or see README)`;
  }
  if (!existsSync(CLI)) return 'dist/ is not built (npm test builds it)';
  if (spawnSync('ip', ['netns', 'add', 'hf-probe-ns']).status !== 0) return 'cannot create network namespaces';
  spawnSync('ip', ['netns', 'del', 'hf-probe-ns']);
  return undefined;
}

const reason = labUnavailable();
if (reason && process.env.CI === 'true') {
  throw new Error(`lab tests cannot run (${reason}), and in CI a skipped lab test is a failure`);
}
if (reason) console.warn(`lab tests skipped: ${reason}`);
/** For `describe.skipIf(skipLab)`. In CI this never skips: the module throws above instead. */
export const skipLab = reason !== undefined;

export interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

export function hardfleet(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Out {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: opts.timeoutMs ?? 600_000, env: { ...process.env, ...opts.env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Run a command inside a lab host through the console (nsenter), not SSH. */
export function onHost(lab: string, host: string, command: string): Out {
  return hardfleet(['lab', 'console', '--name', lab, host, '--', command], { timeoutMs: 120_000 });
}

export function labFile(lab: string, file: string): string {
  return join('/var/lib/hardfleet/labs', lab, file);
}

/** Plain OpenSSH with strict host key checking against the lab's known_hosts (or the one given). */
export function ssh(lab: string, address: string, command: string, opts: { user?: string; key?: string; knownHosts?: string } = {}): Out {
  const r = spawnSync('ssh', [
    '-i', opts.key ?? labFile(lab, 'id_ed25519'),
    '-o', `UserKnownHostsFile=${opts.knownHosts ?? labFile(lab, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=4', '-o', 'IdentitiesOnly=yes',
    `${opts.user ?? 'root'}@${address}`, command,
  ], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function sh(command: string): string {
  return execFileSync('sh', ['-c', command], { encoding: 'utf8' });
}
