import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostSpec } from '../../src/core/host.js';
import { keyFilesOf, withSecrets, type Prompt } from '../../src/cli/secrets.js';

const dir = mkdtempSync(join(tmpdir(), 'hf-secrets-'));
const key = (name: string, passphrase: string) => {
  const f = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-f', f]);
  return f;
};
const plain = key('plain', '');
const locked = key('locked', 'sesame');

function prompter(answers: string[], interactive = true): Prompt & { asked: string[] } {
  const asked: string[] = [];
  return { interactive, asked, ask: async (q) => (asked.push(q), answers.shift() ?? '') };
}

const host = (name: string, identityFiles: string[], jump?: HostSpec): HostSpec => ({
  name, address: name, port: 22, user: 'root', identityFiles, knownHostsFiles: [], become: false, tags: [], groups: [], vars: {}, jump,
});

describe('secrets asked once, before the run', () => {
  it('collects key files of hosts, their jump hosts and the admin key, once each', () => {
    const bastion = host('bastion', ['/k/bastion']);
    expect(keyFilesOf([host('a', ['/k/a'], bastion), host('b', ['/k/a'])], () => '/k/admin')).toEqual(['/k/a', '/k/bastion', '/k/admin']);
  });
  it('asks for the passphrase once, whatever the number of hosts, and only for encrypted keys', async () => {
    const p = prompter(['sesame']);
    const o = await withSecrets({}, {}, [plain, locked, locked], p);
    expect(o.keyPassphrase).toBe('sesame');
    expect(p.asked).toEqual([`Passphrase for ${locked}: `]);
    const none = prompter([]);
    expect((await withSecrets({}, {}, [plain], none)).keyPassphrase).toBeUndefined();
    expect(none.asked).toEqual([]);
  });
  it('never asks without a terminal: the env var, or each host reports the encrypted key', async () => {
    const p = prompter(['x'], false);
    expect((await withSecrets({}, {}, [locked], p)).keyPassphrase).toBeUndefined();
    process.env.HF_TEST_PASS = 'sesame';
    expect((await withSecrets({}, { 'key-passphrase-env': 'HF_TEST_PASS' }, [locked], p)).keyPassphrase).toBe('sesame');
    expect(p.asked).toEqual([]);
    await expect(withSecrets({}, { 'key-passphrase-env': 'HF_TEST_UNSET' }, [locked], p)).rejects.toThrow(/HF_TEST_UNSET: that environment variable is not set/);
    await expect(withSecrets({}, { 'ask-become-pass': true }, [], p)).rejects.toThrow(/needs a terminal/);
  });
  it('-K asks for the sudo password once; --become-pass-env reads it', async () => {
    const p = prompter(['hunter2']);
    expect((await withSecrets({}, { 'ask-become-pass': true }, [], p)).becomePassword).toBe('hunter2');
    expect(p.asked).toEqual(['BECOME password: ']);
    process.env.HF_TEST_SUDO = 's3';
    expect((await withSecrets({}, { 'become-pass-env': 'HF_TEST_SUDO', 'ask-become-pass': true }, [], prompter([]))).becomePassword).toBe('s3');
  });
});
