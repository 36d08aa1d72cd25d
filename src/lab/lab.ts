/** `hardfleet lab …`: boot, inspect and take down a fleet of real Debian hosts on this machine. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { connect } from 'node:net';
import { ensureImage } from './image.js';
import { consolePid, ensureBridge, hostDir, plugHost, prepareHost, startFull, startLight, stopHost, unplugHost, writeSupervisor } from './host.js';
import { raiseLimits, restoreLimits } from './limits.js';
import { GUARD_V4, GUARD_V6, freeSlot, hostNet, slotNet, MAX_HOSTS } from './net.js';
import { findHost, labDir, listLabs, readState, validLabName, writeState, type HostKind, type HostState, type LabState } from './state.js';
import { isAlive, run, sleep, type RunResult } from './sys.js';
import { labInventory, INVENTORY_HEADER } from './inventory.js';

export type Log = (msg: string) => void;

export interface UpOptions {
  name: string;
  hosts: number;
  kind: HostKind;
  inventoryFile: string;
  /** Rebuild even when the same lab is already up. */
  fresh?: boolean;
  log: Log;
}

export const ADMIN_USER = 'hfadmin';

export function labFiles(name: string) {
  const d = labDir(name);
  return {
    operatorKey: join(d, 'id_ed25519'),
    adminKey: join(d, 'admin_ed25519'),
    knownHosts: join(d, 'known_hosts'),
    rootPassword: join(d, 'root-password'),
  };
}

export function hostNames(kind: HostKind, n: number): Array<{ name: string; groups: string[]; tags: string[] }> {
  if (kind === 'light') {
    const width = Math.max(3, String(n).length);
    return Array.from({ length: n }, (_, i) => ({ name: `l${String(i + 1).padStart(width, '0')}`, groups: ['light'], tags: i === 0 ? ['canary'] : [] }));
  }
  const web = Math.ceil(n / 2);
  return Array.from({ length: n }, (_, i) =>
    i < web
      ? { name: `web${i + 1}`, groups: ['web'], tags: i === 0 ? ['canary'] : [] }
      : { name: `db${i - web + 1}`, groups: ['db'], tags: [] },
  );
}

function checkRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('the lab needs root (network namespaces, mounts, systemd-nspawn): run it with sudo');
}

async function ensureKey(path: string, comment: string): Promise<string> {
  if (!existsSync(path)) await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  return readFileSync(`${path}.pub`, 'utf8').trim();
}

/** Is the whole lab running as recorded? */
function isHealthy(state: LabState): boolean {
  return state.hosts.every((h) => isAlive(h.pid)) && existsSync(labFiles(state.name).knownHosts);
}

export async function labUp(opts: UpOptions): Promise<LabState> {
  checkRoot();
  const { name, log } = opts;
  if (!validLabName(name)) throw new Error(`lab name "${name}": use 1-16 lowercase letters, digits and dashes, starting with a letter`);
  if (!Number.isInteger(opts.hosts) || opts.hosts < 1 || opts.hosts > MAX_HOSTS) throw new Error(`--hosts ${opts.hosts}: give a whole number from 1 to ${MAX_HOSTS}`);
  const inventoryFile = resolve(opts.inventoryFile);
  const previous = readState(name);
  if (previous && !opts.fresh && previous.kind === opts.kind && previous.hosts.length === opts.hosts && isHealthy(previous)) {
    log(`lab ${name} is already up with ${opts.hosts} ${opts.kind} hosts (use --fresh to rebuild it)`);
    writeInventory(previous, inventoryFile);
    return previous;
  }
  if (previous) {
    log(`lab ${name}: cleaning up what an earlier run left`);
    await teardown(previous, log);
  }
  const image = await ensureImage(log);
  const slot = previous?.slot ?? freeSlot(listLabs().filter((l) => l.name !== name).map((l) => l.slot));
  const files = labFiles(name);
  mkdirSync(labDir(name), { recursive: true, mode: 0o700 });
  const rootPublicKey = await ensureKey(files.operatorKey, `hardfleet-lab-${name}-operator`);
  await ensureKey(files.adminKey, `hardfleet-lab-${name}-admin`);
  if (!existsSync(files.rootPassword)) writeFileSync(files.rootPassword, randomBytes(18).toString('base64url') + '\n', { mode: 0o600 });
  const password = readFileSync(files.rootPassword, 'utf8').trim();
  const rootPasswordHash = (await run(['openssl', 'passwd', '-6', '-stdin'], { input: password + '\n' })).stdout.trim();

  const state: LabState = {
    version: 1, name, slot, kind: opts.kind, image: image.id, createdAt: new Date().toISOString(), inventoryFile, guardRoutes: [],
    hosts: hostNames(opts.kind, opts.hosts).map((h, i) => {
      const n = hostNet(slot, i);
      return { ...h, kind: opts.kind, index: i, ipv4: n.ipv4, ipv6: n.ipv6, netns: n.netns, veth: n.veth };
    }),
  };
  // Recorded before anything is made, so that a crash from here on is cleaned up by the next run.
  writeState(state);
  writeSupervisor(name);
  await addGuardRoutes(state);
  writeState(state);
  if (opts.kind === 'full') for (const r of raiseLimits()) log(`raised ${r} (put back by the last lab down)`);
  await ensureBridge(slotNet(slot));

  const started = Date.now();
  log(`booting ${opts.hosts} ${opts.kind} host${opts.hosts > 1 ? 's' : ''} on ${slotNet(slot).bridge} (${state.hosts[0].ipv4}…)`);
  const hostKeys = new Map<string, string>();
  await forEachLimit(state.hosts, 16, async (h) => {
    hostKeys.set(h.name, await prepareHost(name, image, h, { rootPublicKey, rootPasswordHash }));
    await plugHost(slot, h);
    if (h.kind === 'full') await startFull(name, image, h);
    else startLight(name, image, h);
  });
  writeState(state);
  writeFileSync(
    files.knownHosts,
    state.hosts.map((h) => `${h.name},${h.ipv4},${h.ipv6} ${hostKeys.get(h.name)!.split(' ').slice(0, 2).join(' ')}`).join('\n') + '\n',
    { mode: 0o644 },
  );
  let up = 0;
  await forEachLimit(state.hosts, 64, async (h) => {
    await waitForSsh(name, h, opts.kind === 'full' ? 180_000 : 60_000);
    up++;
    if (opts.hosts <= 20 || up % 25 === 0 || up === opts.hosts) log(`  ${h.kind === 'full' || opts.hosts <= 20 ? h.name : `${up}/${opts.hosts}`} answering SSH (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  });
  writeInventory(state, inventoryFile);
  log(`lab ${name} up: ${opts.hosts} hosts in ${((Date.now() - started) / 1000).toFixed(1)}s; inventory ${inventoryFile}`);
  return state;
}

function writeInventory(state: LabState, file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  if (existsSync(file) && !readFileSync(file, 'utf8').startsWith(INVENTORY_HEADER)) {
    throw new Error(`${file} exists and was not written by hardfleet lab: move it away or pass --inventory FILE`);
  }
  const files = labFiles(state.name);
  writeFileSync(file, labInventory(state, { ...files, adminPublicKey: readFileSync(`${files.adminKey}.pub`, 'utf8').trim(), adminUser: ADMIN_USER }));
  if (state.inventoryFile !== file) {
    state.inventoryFile = file;
    writeState(state);
  }
}

async function addGuardRoutes(state: LabState): Promise<void> {
  for (const [fam, range] of [['-4', GUARD_V4], ['-6', GUARD_V6]] as const) {
    const shown = await run(['ip', fam, 'route', 'show', 'type', 'unreachable', range], { allowFailure: true });
    if (!shown.stdout.trim()) {
      await run(['ip', fam, 'route', 'add', 'unreachable', range]);
      state.guardRoutes.push(range);
    }
  }
}

/** Remove everything the state records, tolerating pieces that are already gone. */
async function teardown(state: LabState, log: Log): Promise<void> {
  await forEachLimit(state.hosts, 16, async (h) => {
    await stopHost(state.name, h);
    await unplugHost(h);
    rmSync(hostDir(state.name, h.name), { recursive: true, force: true });
  });
  await run(['ip', 'link', 'del', slotNet(state.slot).bridge], { allowFailure: true });
  const others = listLabs().filter((l) => l.name !== state.name);
  const guards = new Set([...state.guardRoutes, ...others.flatMap((o) => o.guardRoutes)]);
  if (others.length === 0) {
    for (const range of guards) await run(['ip', range.includes(':') ? '-6' : '-4', 'route', 'del', 'unreachable', range], { allowFailure: true });
    restoreLimits();
  } else if (state.guardRoutes.length) {
    // Another lab still stands behind the guard: hand it over rather than remove it.
    others[0].guardRoutes = [...new Set([...others[0].guardRoutes, ...state.guardRoutes])];
    writeState(others[0]);
  }
  state.guardRoutes = [];
  if (state.inventoryFile && existsSync(state.inventoryFile) && readFileSync(state.inventoryFile, 'utf8').startsWith(INVENTORY_HEADER)) {
    rmSync(state.inventoryFile);
  }
  log(`lab ${state.name}: ${state.hosts.length} hosts stopped and removed`);
}

export async function labDown(name: string, log: Log): Promise<boolean> {
  checkRoot();
  const state = readState(name);
  if (!state) {
    log(`no lab named ${name} is recorded on this machine; nothing to do`);
    return false;
  }
  await teardown(state, log);
  rmSync(labDir(name), { recursive: true, force: true });
  return true;
}

export interface HostStatus {
  name: string;
  kind: HostKind;
  ipv4: string;
  ipv6: string;
  groups: string[];
  tags: string[];
  state: 'running' | 'cut' | 'down';
}

export async function labStatus(name: string): Promise<{ lab: LabState; hosts: HostStatus[] } | undefined> {
  const lab = readState(name);
  if (!lab) return undefined;
  const links = (await run(['ip', '-o', 'link', 'show', 'master', slotNet(lab.slot).bridge], { allowFailure: true })).stdout;
  const hosts = lab.hosts.map((h): HostStatus => {
    const line = links.split('\n').find((l) => l.includes(` ${h.veth}@`));
    const cut = !line || /state DOWN/.test(line) || !/[<,]UP[,>]/.test(line);
    return { name: h.name, kind: h.kind, ipv4: h.ipv4, ipv6: h.ipv6, groups: h.groups, tags: h.tags, state: !isAlive(h.pid) ? 'down' : cut ? 'cut' : 'running' };
  });
  return { lab, hosts };
}

function mustState(name: string): LabState {
  const s = readState(name);
  if (!s) throw new Error(`no lab named ${name} is up: start one with hardfleet lab up --name ${name}`);
  return s;
}

/** nsenter argv that runs `command` inside the host, like a serial console: no SSH involved. */
export function consoleArgv(name: string, host: string, command: string[]): string[] {
  const state = mustState(name);
  const h = findHost(state, host);
  const pid = consolePid(name, h);
  const words = command.length === 1 ? ['sh', '-c', command[0]] : command;
  return ['nsenter', '-t', String(pid), '-a', ...(h.kind === 'light' ? ['-r', '-w'] : []), '--',
    '/usr/bin/env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'LANG=C.UTF-8', 'TERM=dumb', ...words];
}

/** Run a command inside a lab host out-of-band (for tests and operators). */
export function labConsole(name: string, host: string, command: string[], opts: { input?: string; inherit?: boolean } = {}): Promise<RunResult> {
  if (command.length === 0) throw new Error('lab console HOST -- COMMAND: give a command to run');
  return run(consoleArgv(name, host, command), { allowFailure: true, ...opts });
}

export async function labLink(name: string, host: string, up: boolean): Promise<void> {
  checkRoot();
  const h = findHost(mustState(name), host);
  await run(['ip', 'link', 'set', h.veth, up ? 'up' : 'down']);
}

/** Reboot from inside (systemctl reboot) and wait for the host to answer SSH again. */
export async function labReboot(name: string, host: string, log: Log): Promise<void> {
  checkRoot();
  const state = mustState(name);
  const h = findHost(state, host);
  const t0 = Date.now();
  if (h.kind === 'light') {
    await stopHost(name, h);
    const image = await ensureImage(log);
    startLight(name, image, h);
    writeState(state);
  } else {
    const before = consolePid(name, h);
    await labConsole(name, host, ['systemctl', 'reboot']);
    await waitFor(() => {
      try {
        return consolePid(name, h) !== before;
      } catch {
        return false;
      }
    }, 120_000, `${host} did not come back from reboot: see ${hostDir(name, h.name)}/console.log`);
  }
  await waitForSsh(name, h, 180_000);
  log(`${host} rebooted and answering SSH (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
}

async function waitFor(cond: () => boolean, ms: number, message: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(message);
    await sleep(200);
  }
}

/** True when something on ipv4:22 speaks SSH. */
export function sshBanner(address: string, port = 22, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolveP) => {
    const sock = connect({ host: address, port, timeout: timeoutMs });
    let buf = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolveP(ok);
    };
    sock.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) done(buf.startsWith('SSH-'));
    });
    sock.on('timeout', () => done(false));
    sock.on('error', () => done(false));
    sock.on('close', () => done(buf.startsWith('SSH-')));
  });
}

export async function waitForSsh(lab: string, h: HostState, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await sshBanner(h.ipv4))) {
    if (Date.now() > end) throw new Error(`${h.name} (${h.ipv4}) did not answer SSH within ${ms / 1000}s${bootLogTail(lab, h)}`);
    await sleep(250);
  }
}

/** The end of what the host and its supervisor said, so that a host that never came up can be diagnosed. */
function bootLogTail(lab: string, h: HostState): string {
  const parts: string[] = [];
  for (const f of ['supervisor.log', 'console.log', 'sshd.log']) {
    const p = join(hostDir(lab, h.name), f);
    if (!existsSync(p)) continue;
    const lines = readFileSync(p, 'utf8').trimEnd().split('\n').slice(-8);
    if (lines.join('').trim()) parts.push(`--- ${p} (last lines)\n${lines.join('\n')}`);
  }
  return parts.length ? `\n${parts.join('\n')}` : '';
}

async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (e) {
        errors.push(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length) throw errors[0];
}
