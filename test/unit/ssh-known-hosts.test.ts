import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  appendKnownHost,
  checkHostKey,
  keyTypeOfBlob,
  knownHostName,
  lookupHostKey,
  parseKnownHosts,
} from '../../src/ssh/known-hosts.js';

/** A fake but well-formed ed25519 public key blob. */
function blob(seed: number, type = 'ssh-ed25519'): Buffer {
  const t = Buffer.from(type);
  const k = Buffer.alloc(32, seed);
  const len = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
  return Buffer.concat([len(t.length), t, len(k.length), k]);
}
const A = blob(1);
const B = blob(2);
const C = blob(3);
const b64 = (b: Buffer) => b.toString('base64');

function tmp(name: string, text?: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'hf-kh-')), name);
  if (text !== undefined) writeFileSync(f, text);
  return f;
}

describe('known_hosts', () => {
  it('matches plain names and comma lists, case-insensitively', () => {
    const f = tmp('kh', `# comment\n\nweb1,10.0.0.1 ssh-ed25519 ${b64(A)}\nWEB2 ssh-ed25519 ${b64(B)} comment\n`);
    expect(checkHostKey([f], 'web1', 22, 'ssh-ed25519', A)).toBe('ok');
    expect(checkHostKey([f], '10.0.0.1', 22, 'ssh-ed25519', A)).toBe('ok');
    expect(checkHostKey([f], 'web2', 22, 'ssh-ed25519', B)).toBe('ok');
    expect(checkHostKey([f], 'web1', 22, 'ssh-ed25519', B)).toBe('mismatch');
    expect(checkHostKey([f], 'web3', 22, 'ssh-ed25519', A)).toBe('unknown');
  });

  it('reports file and line of the recorded key on mismatch', () => {
    const f = tmp('kh', `other ssh-ed25519 ${b64(C)}\nweb1 ssh-ed25519 ${b64(A)}\n`);
    const r = lookupHostKey([f], 'web1', 22, 'ssh-ed25519', B);
    expect(r.status).toBe('mismatch');
    expect(r.entry).toMatchObject({ file: f, line: 2 });
  });

  it('treats a key of another type as unknown, listing the known types', () => {
    const f = tmp('kh', `web1 ssh-ed25519 ${b64(A)}\n`);
    const rsa = blob(9, 'ssh-rsa');
    expect(lookupHostKey([f], 'web1', 22, 'ssh-rsa', rsa)).toMatchObject({ status: 'unknown', knownTypes: ['ssh-ed25519'] });
  });

  it('supports * and ? wildcards and !negation', () => {
    const f = tmp('kh', `*.lab,!db?.lab ssh-ed25519 ${b64(A)}\n`);
    expect(checkHostKey([f], 'web1.lab', 22, 'ssh-ed25519', A)).toBe('ok');
    expect(checkHostKey([f], 'db1.lab', 22, 'ssh-ed25519', A)).toBe('unknown');
    expect(checkHostKey([f], 'db10.lab', 22, 'ssh-ed25519', A)).toBe('ok');
    expect(checkHostKey([f], 'web1.prod', 22, 'ssh-ed25519', A)).toBe('unknown');
  });

  it('uses [host]:port for ports other than 22', () => {
    const f = tmp('kh', `[web1]:2222 ssh-ed25519 ${b64(A)}\nweb1 ssh-ed25519 ${b64(B)}\n`);
    expect(knownHostName('web1', 2222)).toBe('[web1]:2222');
    expect(checkHostKey([f], 'web1', 2222, 'ssh-ed25519', A)).toBe('ok');
    expect(checkHostKey([f], 'web1', 2222, 'ssh-ed25519', B)).toBe('mismatch');
    expect(checkHostKey([f], 'web1', 22, 'ssh-ed25519', B)).toBe('ok');
    expect(checkHostKey([f], 'web1', 2200, 'ssh-ed25519', A)).toBe('unknown');
  });

  it('matches hashed names (HMAC-SHA1 keyed by the salt), computed independently', () => {
    // salt = bytes 0..19; hashes computed with Python's hmac module.
    const salt = 'AAECAwQFBgcICQoLDA0ODxAREhM=';
    const f = tmp(
      'kh',
      `|1|${salt}|hrtfZrKxbKOpN4lnqwTFNWZAgaI= ssh-ed25519 ${b64(A)}\n` +
        `|1|${salt}|4GiSMcFEgSivPyUSn1blo3VQ984= ssh-ed25519 ${b64(B)}\n`,
    );
    expect(checkHostKey([f], 'web1.example.com', 22, 'ssh-ed25519', A)).toBe('ok');
    expect(checkHostKey([f], 'web1.example.com', 2222, 'ssh-ed25519', B)).toBe('ok');
    expect(checkHostKey([f], 'web1.example.com', 22, 'ssh-ed25519', C)).toBe('mismatch');
    expect(checkHostKey([f], 'web2.example.com', 22, 'ssh-ed25519', A)).toBe('unknown');
  });

  it('refuses @revoked keys even when also listed as valid, and ignores @cert-authority', () => {
    const f = tmp(
      'kh',
      `@cert-authority *.lab ssh-ed25519 ${b64(C)}\n@revoked * ssh-ed25519 ${b64(A)}\nweb1 ssh-ed25519 ${b64(A)}\n`,
    );
    expect(checkHostKey([f], 'web1', 22, 'ssh-ed25519', A)).toBe('revoked');
    expect(checkHostKey([f], 'x.lab', 22, 'ssh-ed25519', C)).toBe('unknown');
    expect(parseKnownHosts(readFileSync(f, 'utf8'), f).map((e) => e.marker)).toEqual(['cert-authority', 'revoked', undefined]);
  });

  it('reads several files, skipping missing ones', () => {
    const f1 = tmp('kh1', `web1 ssh-ed25519 ${b64(A)}\n`);
    const f2 = tmp('kh2', `web2 ssh-ed25519 ${b64(B)}\n`);
    const files = [join(tmpdir(), 'does-not-exist-hf'), f1, f2];
    expect(checkHostKey(files, 'web1', 22, 'ssh-ed25519', A)).toBe('ok');
    expect(checkHostKey(files, 'web2', 22, 'ssh-ed25519', B)).toBe('ok');
    expect(lookupHostKey(files, 'web2', 22, 'ssh-ed25519', A).entry).toMatchObject({ file: f2, line: 1 });
  });

  it('appends keys, creating the file 0600', () => {
    const f = tmp('known_hosts');
    appendKnownHost(f, 'web1', 22, 'ssh-ed25519', A);
    appendKnownHost(f, 'web1', 2222, 'ssh-ed25519', B);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(readFileSync(f, 'utf8')).toBe(`web1 ssh-ed25519 ${b64(A)}\n[web1]:2222 ssh-ed25519 ${b64(B)}\n`);
    expect(checkHostKey([f], 'web1', 2222, 'ssh-ed25519', B)).toBe('ok');
  });

  it('appends on a new line when the file lacks a final newline', () => {
    const f = tmp('kh', `web1 ssh-ed25519 ${b64(A)}`);
    appendKnownHost(f, 'web2', 22, 'ssh-ed25519', B);
    expect(checkHostKey([f], 'web1', 22, 'ssh-ed25519', A)).toBe('ok');
    expect(checkHostKey([f], 'web2', 22, 'ssh-ed25519', B)).toBe('ok');
  });

  it('reads the key type out of a wire-format blob', () => {
    expect(keyTypeOfBlob(A)).toBe('ssh-ed25519');
  });

  it('sees a file that changed since it was last read (parsed files are reused only while unchanged)', () => {
    const f = tmp('kh', `web1 ssh-ed25519 ${b64(A)}\n`);
    expect(checkHostKey([f], 'web1', 22, 'ssh-ed25519', A)).toBe('ok');
    expect(checkHostKey([f], 'web2', 22, 'ssh-ed25519', B)).toBe('unknown');
    appendKnownHost(f, 'web2', 22, 'ssh-ed25519', B);
    expect(checkHostKey([f], 'web2', 22, 'ssh-ed25519', B)).toBe('ok');
    writeFileSync(f, `web1 ssh-ed25519 ${b64(C)}\n`);
    expect(checkHostKey([f], 'web1', 22, 'ssh-ed25519', A)).toBe('mismatch');
    expect(checkHostKey([f], 'web2', 22, 'ssh-ed25519', B)).toBe('unknown');
  });

  it('takes a plain name literally: dots are not wildcards, case does not matter', () => {
    const f = tmp('kh', `web1.example.org,[Db1]:2222 ssh-ed25519 ${b64(A)}\n`);
    expect(checkHostKey([f], 'WEB1.example.org', 22, 'ssh-ed25519', A)).toBe('ok');
    expect(checkHostKey([f], 'web1xexample.org', 22, 'ssh-ed25519', A)).toBe('unknown');
    expect(checkHostKey([f], 'db1', 2222, 'ssh-ed25519', A)).toBe('ok');
    expect(checkHostKey([f], 'db1', 22, 'ssh-ed25519', A)).toBe('unknown');
  });
});
