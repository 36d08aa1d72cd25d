/**
 * Scenarios on light hosts (sshd alone): lab-up time of 200, ad-hoc `true` on 50 and 200 hosts
 * (hardfleet, Ansible cold and warm, N parallel OpenSSH clients, the bare ssh2 floor), facts on
 * 50, and hardfleet's peak RSS at 500.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ansibleColdWarm, log, record, timed, writeJson, type Bench } from './context.js';
import { benchInventory, parseLabInventory, type LabInventory } from './inventory.js';
import { exec, labDown, labUp } from './lab.js';
import { CLI, FLOOR } from './paths.js';

export const LIGHT_LAB = 'benchlt';

async function upLight(b: Bench, hosts: number, fresh: boolean): Promise<LabInventory> {
  const inv = join(b.dir, `${LIGHT_LAB}.yml`);
  log(`lab ${LIGHT_LAB}: ${hosts} light hosts`);
  await labUp(LIGHT_LAB, hosts, 'light', inv, fresh);
  return parseLabInventory(readFileSync(inv, 'utf8'));
}

function floorFile(b: Bench, lab: LabInventory, n: number): string {
  return writeJson(b, `floor-${n}.json`, { user: lab.vars.ansible_user, key: lab.vars.ansible_ssh_private_key_file, hosts: lab.hosts.slice(0, n).map((h) => h.address) });
}

/** One untimed login on every host first: the first tool to reach a new host would pay for its cold sshd. */
async function warmUp(b: Bench, lab: LabInventory): Promise<void> {
  const r = await exec(['node', FLOOR, floorFile(b, lab, lab.hosts.length)]);
  if (r.code !== 0) throw new Error(`warm-up logins failed: ${r.stderr.trim()}`);
}

function inventoryFor(b: Bench, lab: LabInventory, n: number): string {
  const p = join(b.dir, `light-${n}.yml`);
  writeFileSync(p, benchInventory(lab, n, 'root'));
  return p;
}

function openSshScript(lab: LabInventory, n: number): string {
  const v = lab.vars;
  const opts = ['-o', 'BatchMode=yes', '-o', 'ControlMaster=no', '-o', 'ControlPath=none', '-o', `UserKnownHostsFile=${String(v.known_hosts)}`,
    '-o', 'StrictHostKeyChecking=yes', '-i', String(v.ansible_ssh_private_key_file), '-l', String(v.ansible_user)].join(' ');
  const addrs = lab.hosts.slice(0, n).map((h) => h.address).join(' ');
  return `fail=0; pids=""; for a in ${addrs}; do ssh ${opts} "$a" true & pids="$pids $!"; done; for p in $pids; do wait $p || fail=$((fail+1)); done; [ $fail -eq 0 ] || { echo "$fail failed" >&2; exit 1; }`;
}

async function adhoc(b: Bench, lab: LabInventory, n: number, pairs: number, scenario: string): Promise<void> {
  const inv = inventoryFor(b, lab, n);
  const floor = floorFile(b, lab, n);
  const ssh = openSshScript(lab, n);
  for (let p = 1; p <= pairs; p++) {
    log(`${scenario}: pair ${p}/${pairs}`);
    await timed(b, scenario, 'hardfleet', ['node', CLI, 'run', '-i', inv, '--forks', String(n), '--', 'true']);
    await ansibleColdWarm(b, scenario, ['ansible', 'all', '-i', inv, '-f', String(n), '-m', 'raw', '-a', 'true']);
    await timed(b, scenario, `OpenSSH ×${n} at once`, ['bash', '-c', ssh]);
    await timed(b, scenario, 'bare ssh2 loop (floor)', ['node', FLOOR, floor]);
  }
}

export async function runLight(b: Bench): Promise<void> {
  const s = b.args.scenarios;
  const pairs = b.args.pairs;
  if (s.has('labup')) {
    for (let i = 1; i <= pairs; i++) {
      await labDown(LIGHT_LAB).catch(() => undefined);
      const t0 = performance.now();
      await upLight(b, 200, true);
      record(b, 'lab up: 200 light hosts (warm image cache)', 'hardfleet lab up', { wallMs: performance.now() - t0, cpuMs: NaN, maxRssKb: NaN, sumRssKb: NaN, ok: true });
    }
  }
  if (s.has('1') || s.has('2')) {
    const lab = await upLight(b, 200, false);
    await warmUp(b, lab);
    if (s.has('1')) {
      await adhoc(b, lab, 50, pairs, 's1: ad-hoc `true`, 50 light hosts');
      await adhoc(b, lab, 200, pairs, 's1: ad-hoc `true`, 200 light hosts');
    }
    if (s.has('2')) {
      const inv = inventoryFor(b, lab, 50);
      const scenario = 's2: facts, 50 light hosts';
      for (let p = 1; p <= pairs; p++) {
        log(`${scenario}: pair ${p}/${pairs}`);
        await timed(b, scenario, 'hardfleet', ['node', CLI, 'facts', '-i', inv, '--forks', '50']);
        await ansibleColdWarm(b, scenario, ['ansible', 'all', '-i', inv, '-f', '50', '-m', 'ansible.builtin.setup']);
      }
    }
  }
  if (s.has('rss')) {
    const lab = await upLight(b, 500, false);
    await warmUp(b, lab);
    const inv = inventoryFor(b, lab, 500);
    const floor = floorFile(b, lab, 500);
    const scenario = 'peak RSS: ad-hoc `true`, 500 light hosts';
    for (let p = 1; p <= pairs; p++) {
      // 500 handshakes at once share this machine's 2 cores with the 500 sshds: some take longer
      // than the default 10 s connect timeout (OpenSSH's and Ansible's too), which the floor lacks.
      await timed(b, scenario, 'hardfleet', ['node', CLI, 'run', '-i', inv, '--forks', '500', '--connect-timeout', '60', '--', 'true']);
      await timed(b, scenario, 'bare ssh2 loop (floor)', ['node', FLOOR, floor]);
    }
  }
}
