/**
 * Getting to a host, directly or through a chain of jump hosts. Jump connections are shared
 * within the process (one per jump host, whatever the number of targets behind it) and the
 * tunnels+logins opened through one at a time are limited: sshd's MaxStartups (default 10:30:100)
 * starts dropping unauthenticated connections beyond 10.
 */
import type { Duplex } from 'node:stream';
import type { Client } from 'ssh2';
import { HostError, HostUnreachableError, RemoteCommandError } from '../core/errors.js';
import type { HostSpec } from '../core/host.js';
import { connectHop, type HopOptions, type HopTarget } from './hop.js';
import { Semaphore } from './semaphore.js';

/** Logins in flight through one jump host. */
export const JUMP_STARTUPS = 8;
/** How long an unused jump connection stays open for the next batch. */
const JUMP_LINGER_MS = 2000;

export interface Route {
  client: Client;
  /** Give back the jump host lease (idempotent). */
  release(): void;
}

interface JumpEntry {
  key: string;
  client: Promise<Route>;
  gate: Semaphore;
  refs: number;
  linger?: NodeJS.Timeout;
}

const pool = new Map<string, JumpEntry>();

function jumpKey(spec: HostSpec): string {
  const hop = [spec.user, spec.address, spec.port, spec.identityFiles, spec.knownHostsFiles];
  return JSON.stringify(spec.jump ? [hop, jumpKey(spec.jump)] : [hop]);
}

function dropEntry(entry: JumpEntry): void {
  if (pool.get(entry.key) === entry) pool.delete(entry.key);
  clearTimeout(entry.linger);
  entry.client.then((r) => {
    r.client.end();
    r.release();
  }, () => undefined);
}

async function acquireJump(jump: HostSpec, opts: HopOptions): Promise<{ entry: JumpEntry; route: Route }> {
  const key = jumpKey(jump);
  let entry = pool.get(key);
  if (!entry) {
    const created: JumpEntry = { key, gate: new Semaphore(JUMP_STARTUPS), refs: 0, client: undefined as never };
    const target = { spec: jump, user: jump.user, identityFiles: jump.identityFiles };
    created.client = connectRoute(target, opts, () => dropEntry(created));
    created.client.catch(() => dropEntry(created));
    pool.set(key, created);
    entry = created;
  }
  entry.refs++;
  clearTimeout(entry.linger);
  try {
    return { entry, route: await entry.client };
  } catch (e) {
    entry.refs--;
    throw e;
  }
}

function releaseJump(entry: JumpEntry): void {
  entry.refs--;
  if (entry.refs > 0) return;
  entry.linger = setTimeout(() => dropEntry(entry), JUMP_LINGER_MS);
  entry.linger.unref();
}

function forwardOut(client: Client, jump: HostSpec, to: HostSpec): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error) =>
      reject(
        new HostUnreachableError(
          to.name,
          `jump host ${jump.name} cannot open a tunnel to ${to.address}:${to.port}: ${err.message}`,
          `is sshd listening on port ${to.port}, and does ${jump.name} allow TCP forwarding (AllowTcpForwarding)?`,
        ),
      );
    try {
      client.forwardOut('127.0.0.1', 0, to.address, to.port, (err, stream) => (err ? fail(err) : resolve(stream)));
    } catch (e) {
      fail(e as Error);
    }
  });
}

/** An error on a jump hop, reported against the target host so the operator sees both names. */
function viaJump(target: HostSpec, jump: HostSpec, e: unknown): unknown {
  if (!(e instanceof HostError) || e instanceof RemoteCommandError || e.host === target.name) return e;
  const Ctor = e.constructor as new (host: string, message: string, hint?: string) => HostError;
  return new Ctor(target.name, `via jump host ${jump.name}: ${e.message}`, e.hint);
}

/**
 * Log in to `target`, through its jump chain if it has one. The last hop is always a new TCP
 * stream and a new login; only the jump hops before it are shared.
 */
export async function connectRoute(target: HopTarget, opts: HopOptions, onLost: (err: HostError) => void): Promise<Route> {
  const jump = target.spec.jump;
  if (!jump) return { client: await connectHop(target, opts, undefined, onLost), release: () => undefined };
  let lease: { entry: JumpEntry; route: Route };
  try {
    lease = await acquireJump(jump, opts);
  } catch (e) {
    throw viaJump(target.spec, jump, e);
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    releaseJump(lease.entry);
  };
  try {
    const client = await lease.entry.gate.run(async () => {
      const stream = await forwardOut(lease.route.client, jump, target.spec);
      return connectHop(target, opts, stream, onLost);
    });
    return { client, release };
  } catch (e) {
    release();
    throw e;
  }
}

/** Close every shared jump connection now (end of a run, tests). */
export function closeJumpPool(): void {
  for (const entry of [...pool.values()]) dropEntry(entry);
}
