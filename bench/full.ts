/**
 * Scenarios on full hosts (systemd, sshd, Docker): lab-up time of 10, full hardening of 10 fresh
 * hosts (s3), the idempotent re-run on them (s4), the rolling rollout with serial [1, "50%"] (s5);
 * and the check that hardfleet and Ansible leave the hosts in the same state.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ansibleEnv, coldStart, recapChanged } from './ansible.js';
import { log, record, timed, type Bench } from './context.js';
import { diffStates, parseState, STATE_SCRIPT, type HostState } from './endstate.js';
import { benchInventory, parseLabInventory, type LabInventory } from './inventory.js';
import { exec, forEachLimit, prepareFullHosts, labConsole, labDown, labUp, waitBooted } from './lab.js';
import { ANSIBLE_DIR, CLI, PLAYBOOK } from './paths.js';

export const FULL_LAB = 'bench';
const HOSTS = 10;
const DEB_CACHE = '/var/cache/hardfleet-bench/debs';
const S3 = 's3: full hardening, 10 fresh full hosts';
const S4 = 's4: idempotent re-run, 10 hardened hosts';
const S5 = 's5: rolling, serial [1, "50%"], 10 fresh full hosts';

/** python3-apt and what it needs beyond a base install, from Debian's archive (apt-get download, once). */
function pythonAptDebs(): string {
  mkdirSync(DEB_CACHE, { recursive: true });
  if (!readdirSync(DEB_CACHE).some((f) => f.startsWith('python3-apt_'))) {
    execFileSync('apt-get', ['download', 'python3-apt', 'python-apt-common', 'distro-info-data'], { cwd: DEB_CACHE, stdio: 'ignore' });
  }
  return DEB_CACHE;
}

interface FreshLab {
  lab: LabInventory;
  root: string;
  admin: string;
}

/** A lab of 10 fresh full hosts, booted, with python3-apt; inventories as root and as the admin. */
async function freshLab(b: Bench, debs: string): Promise<FreshLab> {
  const inv = join(b.dir, `${FULL_LAB}.yml`);
  await labUp(FULL_LAB, HOSTS, 'full', inv, true);
  const lab = parseLabInventory(readFileSync(inv, 'utf8'));
  const names = lab.hosts.map((h) => h.name);
  await waitBooted(FULL_LAB, names);
  await prepareFullHosts(FULL_LAB, names, debs);
  const root = join(b.dir, 'full-root.yml');
  const admin = join(b.dir, 'full-admin.yml');
  writeFileSync(root, benchInventory(lab, HOSTS, 'root'));
  writeFileSync(admin, benchInventory(lab, HOSTS, 'admin'));
  return { lab, root, admin };
}

async function readStates(lab: LabInventory): Promise<Record<string, HostState>> {
  const out: Record<string, HostState> = {};
  await forEachLimit(lab.hosts, 10, async (h) => {
    const r = await labConsole(FULL_LAB, h.name, STATE_SCRIPT);
    out[h.name] = parseState(r.stdout);
  });
  return out;
}

function hardfleetChanged(reportFile: string): number {
  if (!existsSync(reportFile)) return NaN;
  const r = JSON.parse(readFileSync(reportFile, 'utf8')) as { summary: { changed: number } };
  return r.summary.changed;
}

const changedAll = (n: number) => (n === HOSTS ? undefined : `${n} of ${HOSTS} hosts changed`);
const changedNone = (n: number, what: string) => (n === 0 ? undefined : `${n} ${what} changed on a compliant fleet`);
function ansibleOk(file: string): string | undefined {
  const r = recapChanged(readFileSync(file, 'utf8'));
  if (r.hosts !== HOSTS) return `recap of ${r.hosts} hosts, not ${HOSTS}`;
  return r.failed ? `${r.failed} hosts failed or unreachable` : undefined;
}

const apply = (inv: string, report: string, serial?: string) =>
  ['node', CLI, 'apply', PLAYBOOK, '-i', inv, '--forks', String(HOSTS), '--json', report, ...(serial ? ['--serial', serial] : [])];
const playbook = (inv: string, extra?: string) =>
  ['ansible-playbook', '-i', inv, '-f', String(HOSTS), join(ANSIBLE_DIR, 'docker-host.yml'), ...(extra ? ['-e', extra] : [])];

export async function runFull(b: Bench): Promise<void> {
  const s = b.args.scenarios;
  const pairs = b.args.pairs;
  if (s.has('labup')) {
    for (let i = 1; i <= pairs; i++) {
      await labDown(FULL_LAB).catch(() => undefined);
      const t0 = performance.now();
      await labUp(FULL_LAB, HOSTS, 'full', join(b.dir, `${FULL_LAB}.yml`), true);
      record(b, 'lab up: 10 full hosts answering SSH (warm image cache)', 'hardfleet lab up', { wallMs: performance.now() - t0, cpuMs: NaN, maxRssKb: NaN, sumRssKb: NaN, ok: true });
    }
  }
  if (!s.has('3') && !s.has('4') && !s.has('5')) return;
  const debs = pythonAptDebs();
  const idem: string[] = [];
  for (let p = 1; p <= pairs; p++) {
    if (s.has('3') || s.has('4')) {
      log(`s3/s4: pair ${p}/${pairs}, hardfleet`);
      let l = await freshLab(b, debs);
      const hfReport = join(b.dir, `s3-hardfleet-${p}.json`);
      await timed(b, S3, 'hardfleet', apply(l.root, hfReport, String(HOSTS)), { check: () => changedAll(hardfleetChanged(hfReport)) });
      const hfState = await readStates(l.lab);
      const hf4Report = join(b.dir, `s4-hardfleet-${p}.json`);
      await timed(b, S4, 'hardfleet', apply(l.admin, hf4Report, String(HOSTS)), { check: () => changedNone(hardfleetChanged(hf4Report), 'hosts') });
      idem.push(`pair ${p}: hardfleet re-run changed ${hardfleetChanged(hf4Report)} hosts`);

      log(`s3/s4: pair ${p}/${pairs}, Ansible`);
      l = await freshLab(b, debs);
      await coldStart(b.cpDir);
      await timed(b, S3, 'Ansible (cold)', playbook(l.root), { ansible: true, check: ansibleOk });
      const anState = await readStates(l.lab);
      const diffs = diffStates(hfState, anState, ['hardfleet', 'Ansible']);
      b.endState.push(diffs.length
        ? `pair ${p}: ${diffs.length} difference(s) between the hosts hardened by hardfleet and by Ansible:\n${diffs.map((d) => `  - ${d}`).join('\n')}`
        : `pair ${p}: the ${HOSTS} hosts hardened by hardfleet and the ${HOSTS} hardened by Ansible are in the same state (${Object.keys(Object.values(hfState)[0] ?? {}).join(', ')})`);
      log(diffs.length ? `end state differs: ${diffs.length} difference(s)` : 'end state: same');
      await coldStart(b.cpDir);
      for (const mode of ['cold', 'warm'] as const) {
        const r = await timed(b, S4, `Ansible (${mode})`, playbook(l.admin), { ansible: true, check: (f) => ansibleOk(f) ?? changedNone(recapChanged(readFileSync(f, 'utf8')).changed, 'tasks') });
        const rc = recapChanged(readFileSync(r.log, 'utf8'));
        idem.push(`pair ${p}: Ansible re-run (${mode}) reported ${rc.changed} changed tasks`);
      }
      if (b.args.warmFresh) {
        l = await freshLab(b, debs);
        await coldStart(b.cpDir);
        await exec(['ansible', 'all', '-i', l.root, '-f', String(HOSTS), '-m', 'raw', '-a', 'true'], { env: ansibleEnv(b.cpDir) });
        await timed(b, S3, 'Ansible (warm)', playbook(l.root), { ansible: true, check: ansibleOk });
      }
    }
    if (s.has('5')) {
      log(`s5: pair ${p}/${pairs}`);
      let l = await freshLab(b, debs);
      const hf5Report = join(b.dir, `s5-hardfleet-${p}.json`);
      await timed(b, S5, 'hardfleet', apply(l.root, hf5Report), { check: () => changedAll(hardfleetChanged(hf5Report)) });
      l = await freshLab(b, debs);
      await coldStart(b.cpDir);
      await timed(b, S5, 'Ansible (cold)', playbook(l.root, '{"bench_serial": [1, "50%"]}'), { ansible: true, check: ansibleOk });
      if (b.args.warmFresh) {
        l = await freshLab(b, debs);
        await coldStart(b.cpDir);
        await exec(['ansible', 'all', '-i', l.root, '-f', String(HOSTS), '-m', 'raw', '-a', 'true'], { env: ansibleEnv(b.cpDir) });
        await timed(b, S5, 'Ansible (warm)', playbook(l.root, '{"bench_serial": [1, "50%"]}'), { ansible: true, check: ansibleOk });
      }
    }
  }
  if (idem.length) b.notes.push(`Idempotent re-runs (s4): ${idem.join('; ')}.`);
}
