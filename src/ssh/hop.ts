/**
 * One SSH login: TCP (or a stream through a jump host), host key check against known_hosts,
 * authentication. Every ssh2 error becomes a typed HostError; nothing is left to crash the process.
 */
import type { Duplex } from 'node:stream';
// ssh2 is CommonJS: Node's ESM loader gives its exports only as the default object.
import ssh2, { type ConnectConfig, type VerifyCallback } from 'ssh2';

const { Client } = ssh2;
type Client = InstanceType<typeof Client>;
import {
  HostError,
  HostKeyMismatchError,
  HostKeyUnknownError,
  HostUnreachableError,
  TimeoutError,
} from '../core/errors.js';
import type { HostSpec } from '../core/host.js';
import { authRejected, planAuth } from './auth.js';
import { appendKnownHost, findHostEntries, fingerprint, keyTypeOfBlob, knownHostName, lookupHostKey, type HostKeyCheck } from './known-hosts.js';

export interface HopOptions {
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  acceptNew: boolean;
  keyPassphrase?: string;
  agentSocket?: string;
}

/** Who logs in where: the spec plus the user and keys actually used (they may be overridden). */
export interface HopTarget {
  spec: HostSpec;
  user: string;
  identityFiles: string[];
  /**
   * The same sshd answered on this other port under keys known_hosts holds (hardfleet moved it):
   * a key unknown for the new port is accepted, and recorded, only if it is one of those.
   */
  keysOfPort?: number;
}

/** ssh2's default host key algorithms, in its order of preference. */
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** Like OpenSSH, ask first for the key types known_hosts already holds for this host. */
function hostKeyAlgorithms(knownTypes: string[]): string[] {
  const known = HOST_KEY_ALGORITHMS.filter((a) =>
    knownTypes.some((t) => t === a || (t === 'ssh-rsa' && a.startsWith('rsa-sha2-'))),
  );
  return [...known, ...HOST_KEY_ALGORITHMS.filter((a) => !known.includes(a))];
}

function checkKey(spec: HostSpec, keyType: string, blob: Buffer): HostKeyCheck {
  const byAddress = lookupHostKey(spec.knownHostsFiles, spec.address, spec.port, keyType, blob);
  if (byAddress.status !== 'unknown' || spec.name === spec.address) return byAddress;
  return lookupHostKey(spec.knownHostsFiles, spec.name, spec.port, keyType, blob);
}

/** Returns the error refusing the key, or undefined to accept it (recording it with accept-new). */
function verifyHostKey(spec: HostSpec, blob: Buffer, acceptNew: boolean, keysOfPort?: number): HostError | undefined {
  const keyType = keyTypeOfBlob(blob);
  const offered = `${keyType} ${fingerprint(blob)}`;
  const where = knownHostName(spec.address, spec.port);
  const check = checkKey(spec, keyType, blob);
  if (check.status === 'ok') return undefined;
  const file = spec.knownHostsFiles[0];
  if (check.status === 'unknown' && keysOfPort !== undefined && keysOfPort !== spec.port && file) {
    const before = checkKey({ ...spec, port: keysOfPort }, keyType, blob);
    if (before.status === 'ok') {
      appendKnownHost(file, spec.address, spec.port, keyType, blob);
      return undefined;
    }
  }
  if (check.status === 'revoked') {
    return new HostKeyMismatchError(
      spec.name,
      `host key ${offered} of ${where} is REVOKED (${check.entry!.file}:${check.entry!.line}); refusing to connect`,
      'the host presents a key marked @revoked: treat the host as compromised until proven otherwise',
    );
  }
  if (check.status === 'mismatch') {
    const e = check.entry!;
    return new HostKeyMismatchError(
      spec.name,
      `HOST KEY CHANGED for ${where}: offered ${offered}, but ${e.file}:${e.line} records ` +
        `${e.keyType} ${fingerprint(e.keyBlob)}. Someone could be intercepting the connection (man-in-the-middle), ` +
        'or the host was reinstalled. Refusing to connect',
      `verify the new key out of band; if legitimate, remove the old one (ssh-keygen -R ${shellWord(where)} -f ${e.file}) and re-run with --accept-new`,
    );
  }
  if (acceptNew && file) {
    appendKnownHost(file, spec.address, spec.port, keyType, blob);
    return undefined;
  }
  const others = check.knownTypes.length ? ` (keys of other types are known: ${check.knownTypes.join(', ')})` : '';
  return new HostKeyUnknownError(
    spec.name,
    `host key ${offered} of ${where} is not in ${spec.knownHostsFiles.join(', ') || 'any known_hosts file'}${others}`,
    'verify the key out of band, then re-run with --accept-new',
  );
}

function shellWord(s: string): string {
  return /^[\w.:-]+$/.test(s) ? s : `'${s}'`;
}

interface SshError extends Error {
  level?: string;
  code?: string | number;
}

function mapConnectError(err: SshError, target: HopTarget, opts: HopOptions, tcpConnected: boolean, tried: string[]): HostError {
  const { spec } = target;
  const at = `${spec.address}:${spec.port}`;
  const listening = `is sshd listening on port ${spec.port}?`;
  if (err.level === 'client-authentication') return authRejected(spec.name, target.user, tried);
  if (err.level === 'client-timeout') {
    if (!tcpConnected) {
      return new HostUnreachableError(spec.name, `no answer from ${at} within ${opts.connectTimeoutMs}ms`, `is the host up? ${listening}`);
    }
    return new TimeoutError(
      spec.name,
      `SSH handshake with ${at} did not complete within ${opts.connectTimeoutMs}ms (connect timeout)`,
      'the server accepted TCP but stalled: overloaded sshd, MaxStartups, or slow DNS on the server (UseDNS)',
    );
  }
  if (err.level === 'client-dns') return new HostUnreachableError(spec.name, `cannot resolve ${spec.address}: ${err.message}`);
  switch (err.code) {
    case 'ECONNREFUSED':
      return new HostUnreachableError(spec.name, `connection refused by ${at}`, listening);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new HostUnreachableError(spec.name, `no route to ${at}`, 'is the host up and the address right?');
    case 'ETIMEDOUT':
      return new HostUnreachableError(spec.name, `connection to ${at} timed out`, `is the host up? ${listening}`);
    case 'ECONNRESET':
      return new HostUnreachableError(spec.name, `connection to ${at} reset during login`, 'sshd may be refusing us (MaxStartups, tcp wrappers, fail2ban)');
  }
  return new HostUnreachableError(spec.name, `SSH connection to ${at} failed: ${err.message}`);
}

/**
 * Log in to one host. `sock` is a stream through a jump host, or undefined for direct TCP.
 * `onLost` is called once if the connection dies after login (keepalive failure, reset, close).
 */
export function connectHop(
  target: HopTarget,
  opts: HopOptions,
  sock: Duplex | undefined,
  onLost: (err: HostError) => void,
): Promise<Client> {
  const { spec } = target;
  const plan = planAuth({ host: spec.name, user: target.user, identityFiles: target.identityFiles, keyPassphrase: opts.keyPassphrase, agentSocket: opts.agentSocket });
  const knownTypes = [spec.address, spec.name].flatMap((h) =>
    findHostEntries(spec.knownHostsFiles, h, spec.port).filter((e) => !e.marker).map((e) => e.keyType),
  );
  const client = new Client();
  let hostKeyError: HostError | undefined;
  let tcpConnected = sock !== undefined;
  let ready = false;
  let lost = false;

  return new Promise<Client>((resolve, reject) => {
    const fail = (e: HostError) => {
      if (ready) {
        if (!lost) onLost(e);
        lost = true;
        return;
      }
      reject(e);
      client.end();
    };
    client.on('connect', () => (tcpConnected = true));
    client.on('ready', () => {
      ready = true;
      resolve(client);
    });
    client.on('error', (err: SshError) => {
      if (!ready) return fail(hostKeyError ?? mapConnectError(err, target, opts, tcpConnected, plan.tried));
      if (err.level === 'client-timeout') {
        return fail(new HostUnreachableError(spec.name, `${spec.address}:${spec.port} stopped answering (${opts.keepaliveCountMax} keepalives unanswered)`));
      }
      fail(new HostUnreachableError(spec.name, `connection to ${spec.address}:${spec.port} lost: ${err.message}`));
    });
    client.on('close', () => {
      fail(hostKeyError ?? new HostUnreachableError(spec.name, `connection to ${spec.address}:${spec.port} closed${ready ? '' : ' during login'}`));
    });
    const config: ConnectConfig = {
      host: spec.address,
      port: spec.port,
      sock,
      username: target.user,
      readyTimeout: opts.connectTimeoutMs,
      keepaliveInterval: opts.keepaliveIntervalMs,
      keepaliveCountMax: opts.keepaliveCountMax,
      authHandler: plan.methods,
      algorithms: { serverHostKey: hostKeyAlgorithms(knownTypes) as never },
      hostVerifier: ((key: Buffer, verify: VerifyCallback) => {
        try {
          hostKeyError = verifyHostKey(spec, key, opts.acceptNew, target.keysOfPort);
        } catch (e) {
          hostKeyError = new HostError(spec.name, `cannot check host key: ${(e as Error).message}`);
        }
        verify(hostKeyError === undefined);
      }) as ConnectConfig['hostVerifier'],
    };
    client.connect(config);
  });
}
