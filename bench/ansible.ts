/** Ansible as the bench runs it: its config, its ControlPersist masters (cold or warm), its recap. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cpuOfDetached } from './measure.js';
import { ANSIBLE_DIR } from './paths.js';

export function ansibleEnv(cpDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ANSIBLE_CONFIG: join(ANSIBLE_DIR, 'ansible.cfg'),
    ANSIBLE_SSH_CONTROL_PATH_DIR: cpDir,
    ANSIBLE_NOCOLOR: '1',
  };
}

/** Command-line prefix of the ssh masters Ansible left running for this bench (setproctitle "ssh: PATH [mux]"). */
export function masterPrefix(cpDir: string): string {
  return `ssh: ${cpDir}/`;
}

/**
 * Cold: as on the first run of the day, no master connection is open. Ends the masters this
 * bench's Ansible runs started (found by their control path, under the bench's own folder) and
 * removes their sockets.
 */
export async function coldStart(cpDir: string): Promise<void> {
  const pids = [...cpuOfDetached(masterPrefix(cpDir)).keys()];
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  for (let i = 0; i < 50 && cpuOfDetached(masterPrefix(cpDir)).size > 0; i++) await new Promise((r) => setTimeout(r, 100));
  rmSync(cpDir, { recursive: true, force: true });
  mkdirSync(cpDir, { recursive: true });
}

/** Sum of `changed=N` over the PLAY RECAP lines of an ansible-playbook log. */
export function recapChanged(log: string): { hosts: number; changed: number; failed: number } {
  let hosts = 0;
  let changed = 0;
  let failed = 0;
  for (const m of log.matchAll(/^\S+\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)) {
    hosts++;
    changed += Number(m[1]);
    failed += Number(m[2]) + Number(m[3]);
  }
  return { hosts, changed, failed };
}

export function versions(): Record<string, string> {
  const out = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch (e) {
      return String((e as { stderr?: string }).stderr ?? e).trim();
    }
  };
  return {
    ansible: `${out('dpkg-query', ['-W', '-f', '${Package} ${Version}', 'ansible'])} (${out('ansible', ['--version']).split('\n')[0]})`,
    openssh: out('sh', ['-c', 'ssh -V 2>&1']),
  };
}
