/** Which credentials a login tries, in OpenSSH's order: identity files first, then the agent. */
import { existsSync, readFileSync } from 'node:fs';
// ssh2 is CommonJS: Node's ESM loader gives its exports only as the default object.
import ssh2, { type AnyAuthMethod, type ParsedKey } from 'ssh2';

const { utils } = ssh2;
import { AuthFailedError } from '../core/errors.js';

export interface AuthPlan {
  methods: AnyAuthMethod[];
  /** What was tried, for "all configured keys were rejected ... tried: ...". */
  tried: string[];
}

export interface AuthInput {
  host: string;
  user: string;
  identityFiles: string[];
  keyPassphrase?: string;
  /** ssh-agent socket; '' or undefined for none. */
  agentSocket?: string;
}

/**
 * Read and decrypt every key up front so a missing passphrase is reported as such, not as a
 * rejection by the server. Missing files are skipped like OpenSSH does.
 */
export function planAuth(input: AuthInput): AuthPlan {
  const methods: AnyAuthMethod[] = [];
  const tried: string[] = [];
  for (const file of input.identityFiles) {
    if (!existsSync(file)) continue;
    const key = readKey(input, file);
    methods.push({ type: 'publickey', username: input.user, key });
    tried.push(file);
  }
  if (input.agentSocket && existsSync(input.agentSocket)) {
    methods.push({ type: 'agent', username: input.user, agent: input.agentSocket });
    tried.push(`ssh-agent (${input.agentSocket})`);
  }
  if (methods.length === 0) throw noCredentials(input.host, input.user, input.identityFiles);
  return { methods, tried };
}

/** No key file exists and there is no agent: what to tell the operator (at login, or before the run). */
export function noCredentials(host: string, user: string, files: string[]): AuthFailedError {
  return new AuthFailedError(
    host,
    `no credentials to log in as ${user}: ${files.length ? `identity file ${files.join(', ')} not found` : 'no identity file configured'}, and no ssh-agent`,
    files.length
      ? 'fix the path in ansible_ssh_private_key_file / identity_file (or IdentityFile in ssh_config)'
      : 'set ansible_ssh_private_key_file / IdentityFile, or start ssh-agent and export SSH_AUTH_SOCK',
  );
}

/**
 * Each key file is read and parsed once per run, not once per host: decrypting a passphrase-
 * protected OpenSSH key runs bcrypt (a good part of a second), and a run logs in to hundreds of
 * hosts, and again for every login proof.
 */
const parsedKeys = new Map<string, ParsedKey | Error>();

function parseKeyOnce(file: string, passphrase: string | undefined): ParsedKey | Error {
  const id = `${file}\0${passphrase ?? ''}`;
  const known = parsedKeys.get(id);
  if (known) return known;
  let result: ParsedKey | ParsedKey[] | Error;
  try {
    result = utils.parseKey(readFileSync(file), passphrase);
  } catch (e) {
    result = e as Error;
  }
  const parsed = Array.isArray(result) ? result[0]! : result;
  parsedKeys.set(id, parsed);
  return parsed;
}

function readKey(input: AuthInput, file: string): ParsedKey {
  const parsed = parseKeyOnce(file, input.keyPassphrase);
  // ssh2 parses a public key as well: offered as ours, the server would only reject it.
  if (!(parsed instanceof Error) && !parsed.isPrivateKey()) {
    throw new AuthFailedError(input.host, `${file} is a public key, not a private one`, `give the private key file${file.endsWith('.pub') ? ` (${file.slice(0, -4)}?)` : ''}`);
  }
  if (!(parsed instanceof Error)) return parsed;
  if (/encrypted/i.test(parsed.message) && input.keyPassphrase === undefined) {
    throw new AuthFailedError(
      input.host,
      `private key ${file} is encrypted and no passphrase was given`,
      'pass its passphrase with --key-passphrase-env VAR, or load the key into ssh-agent',
    );
  }
  if (/passphrase/i.test(parsed.message)) {
    throw new AuthFailedError(input.host, `wrong passphrase for private key ${file}`, 'check --key-passphrase-env');
  }
  throw new AuthFailedError(input.host, `cannot read private key ${file}: ${parsed.message}`);
}

/** Is this private key file encrypted (so that a passphrase must be asked for before the run)? */
export function isEncryptedKey(file: string): boolean {
  if (!existsSync(file)) return false;
  try {
    const r = utils.parseKey(readFileSync(file));
    return r instanceof Error && /encrypted/i.test(r.message);
  } catch (e) {
    return /encrypted/i.test((e as Error).message);
  }
}

export function authRejected(host: string, user: string, tried: string[]): AuthFailedError {
  return new AuthFailedError(
    host,
    `all configured keys were rejected for user ${user}: tried ${tried.join(', ')}`,
    `check that the public key is in ~${user}/.ssh/authorized_keys on ${host}`,
  );
}
