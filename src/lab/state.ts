/**
 * The lab's state file: everything `lab up` made, recorded BEFORE it is made, so that `lab down`
 * (or the next `lab up` after a crash) removes exactly that and nothing else.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export const LABS_ROOT = process.env.HARDFLEET_LAB_ROOT ?? '/var/lib/hardfleet/labs';
export const CACHE_ROOT = process.env.HARDFLEET_CACHE ?? '/var/cache/hardfleet';

export type HostKind = 'full' | 'light';

export interface HostState {
  name: string;
  kind: HostKind;
  index: number;
  ipv4: string;
  ipv6: string;
  netns: string;
  veth: string;
  groups: string[];
  tags: string[];
  /** full: the supervisor that boots (and re-boots) systemd-nspawn; light: sshd itself. */
  pid?: number;
  /** full: where the host's overlay root is mounted on the machine. */
  mountpoint?: string;
}

export interface LabState {
  version: 1;
  name: string;
  slot: number;
  kind: HostKind;
  image: string;
  createdAt: string;
  /** Where lab up wrote the inventory (removed by lab down). */
  inventoryFile?: string;
  /** Guard routes this lab added (removed by the last lab down). */
  guardRoutes: string[];
  hosts: HostState[];
}

export function labDir(name: string): string {
  return join(LABS_ROOT, name);
}

export function statePath(name: string): string {
  return join(labDir(name), 'state.json');
}

export function validLabName(name: string): boolean {
  return /^[a-z][a-z0-9-]{0,15}$/.test(name);
}

export function readState(name: string): LabState | undefined {
  const p = statePath(name);
  if (!existsSync(p)) return undefined;
  const data = JSON.parse(readFileSync(p, 'utf8')) as LabState;
  if (data.version !== 1 || data.name !== name || !Array.isArray(data.hosts)) {
    throw new Error(`${p}: not a hardfleet lab state file (version ${String(data.version)})`);
  }
  return data;
}

/** Atomic write: a crash leaves the previous state or the new one, never half of one. */
export function writeState(state: LabState): void {
  mkdirSync(labDir(state.name), { recursive: true, mode: 0o700 });
  const p = statePath(state.name);
  const tmp = `${p}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, p);
}

/** Every lab recorded on this machine. */
export function listLabs(): LabState[] {
  if (!existsSync(LABS_ROOT)) return [];
  const out: LabState[] = [];
  for (const name of readdirSync(LABS_ROOT)) {
    try {
      const s = readState(name);
      if (s) out.push(s);
    } catch {
      // A corrupt state file of another lab is that lab's problem, not this command's.
    }
  }
  return out;
}

export function findHost(state: LabState, name: string): HostState {
  const h = state.hosts.find((x) => x.name === name || x.ipv4 === name);
  if (!h) {
    throw new Error(`no host "${name}" in lab ${state.name}; hosts: ${state.hosts.slice(0, 12).map((x) => x.name).join(', ')}${state.hosts.length > 12 ? ', …' : ''}`);
  }
  return h;
}
