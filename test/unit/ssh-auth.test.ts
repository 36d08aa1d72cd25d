import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { describe, expect, it, vi } from 'vitest';
import { AuthFailedError } from '../../src/core/errors.js';
import { planAuth } from '../../src/ssh/auth.js';
import { generateEd25519 } from '../fixtures/ssh/server.js';

const dir = mkdtempSync(join(tmpdir(), 'hf-auth-'));
const pair = generateEd25519();
const key = join(dir, 'id_ed25519');
writeFileSync(key, pair.private, { mode: 0o600 });
writeFileSync(`${key}.pub`, pair.public);
const plan = (identityFiles: string[]) => planAuth({ host: 'web1', user: 'root', identityFiles });

describe('planAuth: credentials that cannot work are named before the server is asked', () => {
  it('offers a private key', () => {
    expect(plan([key]).tried).toEqual([key]);
  });

  it.each([
    ['a public key given as the key', [`${key}.pub`], `${key}.pub is a public key, not a private one`, `give the private key file (${key}?)`],
    ['a key file that does not exist', [join(dir, 'nope')], `identity file ${join(dir, 'nope')} not found, and no ssh-agent`, 'fix the path'],
    ['no key at all', [], 'no identity file configured, and no ssh-agent', 'set ansible_ssh_private_key_file'],
  ])('refuses %s', (_what, files, message, hint) => {
    expect(() => plan(files)).toThrow(AuthFailedError);
    expect(() => plan(files)).toThrow(expect.objectContaining({ message: expect.stringContaining(message), hint: expect.stringContaining(hint) }));
  });
});

describe('planAuth: key files', () => {
  it('parses a key file once for all the hosts of a run (an encrypted key costs a bcrypt run each time)', () => {
    const once = join(dir, 'id_once');
    writeFileSync(once, pair.private, { mode: 0o600 });
    const parse = vi.spyOn(ssh2.utils, 'parseKey');
    try {
      for (const host of ['web1', 'web2', 'web3']) planAuth({ host, user: 'root', identityFiles: [once] });
      expect(parse.mock.calls.filter(([data]) => String(data) === pair.private)).toHaveLength(1);
    } finally {
      parse.mockRestore();
    }
  });
});
