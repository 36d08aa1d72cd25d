/**
 * known_hosts, read the way OpenSSH reads it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): host
 * patterns with `*`, `?` and `!negation`, `[host]:port` for ports other than 22, hashed
 * `|1|salt|hash` names, `@revoked` keys. `@cert-authority` lines are ignored: we do not
 * verify host certificates.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

export type HostKeyStatus = 'ok' | 'unknown' | 'mismatch' | 'revoked';

export interface KnownHostEntry {
  file: string;
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** Plain comma-separated patterns, or a hashed name. */
  hosts: { patterns: string[] } | { salt: Buffer; hash: Buffer };
  keyType: string;
  keyBlob: Buffer;
}

export interface HostKeyCheck {
  status: HostKeyStatus;
  /** For 'ok' and 'revoked': the matching line. For 'mismatch': a recorded key of the same type. */
  entry?: KnownHostEntry;
  /** Key types recorded for this host (for 'unknown': "other types are known"). */
  knownTypes: string[];
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === '' || fields[0]!.startsWith('#')) return;
    let marker: KnownHostEntry['marker'];
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else return;
    }
    const [names, keyType, b64] = fields;
    if (!names || !keyType || !b64) return;
    const hosts = parseHosts(names);
    if (!hosts) return;
    entries.push({ file, line: i + 1, marker, hosts, keyType, keyBlob: Buffer.from(b64, 'base64') });
  });
  return entries;
}

function parseHosts(names: string): KnownHostEntry['hosts'] | undefined {
  if (!names.startsWith('|1|')) return { patterns: names.split(',') };
  const [salt, hash] = names.slice(3).split('|');
  if (!salt || !hash) return undefined;
  return { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
}

const globs = new Map<string, RegExp>();

/** OpenSSH match_pattern(): `*` any run, `?` any one character, case-insensitive. */
function globMatch(name: string, pattern: string): boolean {
  // Most lines name hosts plainly; a fleet's known_hosts is matched once per host and hop.
  if (!pattern.includes('*') && !pattern.includes('?')) return name.toLowerCase() === pattern.toLowerCase();
  let re = globs.get(pattern);
  if (!re) {
    re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
    globs.set(pattern, re);
  }
  return re.test(name);
}

export function entryMatchesHost(entry: KnownHostEntry, name: string): boolean {
  const h = entry.hosts;
  if ('salt' in h) {
    const mac = createHmac('sha1', h.salt).update(name).digest();
    return mac.length === h.hash.length && timingSafeEqual(mac, h.hash);
  }
  let positive = false;
  for (const p of h.patterns) {
    if (p.startsWith('!')) {
      if (globMatch(name, p.slice(1))) return false;
    } else if (globMatch(name, p)) {
      positive = true;
    }
  }
  return positive;
}

const parsed = new Map<string, { stamp: string; entries: KnownHostEntry[] }>();

/**
 * A file is parsed once per change (size, mtime and inode tell), not once per lookup: a run over
 * hundreds of hosts looks every one of them up in the same files several times.
 */
function fileEntries(file: string): KnownHostEntry[] {
  let stamp: string;
  try {
    const st = statSync(file);
    stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    parsed.delete(file);
    return [];
  }
  const hit = parsed.get(file);
  if (hit && hit.stamp === stamp) return hit.entries;
  const entries = parseKnownHosts(readFileSync(file, 'utf8'), file);
  parsed.set(file, { stamp, entries });
  return entries;
}

function readEntries(files: string[]): KnownHostEntry[] {
  return files.flatMap(fileEntries);
}

/** Every entry (across all files, in order) that names this host, `@cert-authority` excluded. */
export function findHostEntries(files: string[], host: string, port: number): KnownHostEntry[] {
  const name = knownHostName(host, port);
  return readEntries(files).filter((e) => e.marker !== 'cert-authority' && entryMatchesHost(e, name));
}

/** Check an offered host key; a revoked key wins over everything, an exact match over a mismatch. */
export function lookupHostKey(
  files: string[],
  host: string,
  port: number,
  keyType: string,
  keyBlob: Buffer,
): HostKeyCheck {
  const entries = findHostEntries(files, host, port);
  const knownTypes = [...new Set(entries.filter((e) => !e.marker).map((e) => e.keyType))];
  const same = (e: KnownHostEntry) => e.keyType === keyType && e.keyBlob.equals(keyBlob);
  const revoked = entries.find((e) => e.marker === 'revoked' && same(e));
  if (revoked) return { status: 'revoked', entry: revoked, knownTypes };
  const ok = entries.find((e) => !e.marker && same(e));
  if (ok) return { status: 'ok', entry: ok, knownTypes };
  const other = entries.find((e) => !e.marker && e.keyType === keyType);
  if (other) return { status: 'mismatch', entry: other, knownTypes };
  return { status: 'unknown', knownTypes };
}

export function checkHostKey(
  files: string[],
  host: string,
  port: number,
  keyType: string,
  keyBlob: Buffer,
): HostKeyStatus {
  return lookupHostKey(files, host, port, keyType, keyBlob).status;
}

/** Record a key (plain, not hashed), creating the file 0600 and its directory 0700 when missing. */
export function appendKnownHost(file: string, host: string, port: number, keyType: string, keyBlob: Buffer): void {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    closeSync(openSync(file, 'a', 0o600));
  }
  const text = readFileSync(file, 'utf8');
  const sep = text === '' || text.endsWith('\n') ? '' : '\n';
  appendFileSync(file, `${sep}${knownHostName(host, port)} ${keyType} ${keyBlob.toString('base64')}\n`);
}

/** The key type named inside an SSH wire-format public key blob. */
export function keyTypeOfBlob(blob: Buffer): string {
  if (blob.length < 4) return '';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** OpenSSH-style fingerprint, for messages: `SHA256:...`. */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}
