import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeConnector } from '../../src/cli/common.js';
import { AuthFailedError } from '../../src/core/errors.js';
import type { HostSpec } from '../../src/core/host.js';
import { SshConnection } from '../../src/ssh/index.js';

const adminKey = join(mkdtempSync(join(tmpdir(), 'hf-conn-')), 'admin_ed25519');
writeFileSync(adminKey, 'a key');
const spec = (vars: Record<string, unknown>): HostSpec => ({
  name: 'web1', address: '198.18.0.10', port: 22, user: 'root', identityFiles: ['/k/op'], knownHostsFiles: [], become: false, tags: [], groups: [], vars,
});
const rootRefused = new AuthFailedError('web1', 'all configured keys were rejected for user root: tried /k/op', 'check that the public key is in ~root/.ssh/authorized_keys on web1');

/** Each login refused with the error given for its user. */
function refuse(byUser: Record<string, AuthFailedError>) {
  return vi.spyOn(SshConnection, 'open').mockImplementation(async (s, o) => {
    throw byUser[o?.user ?? s.user] ?? new Error(`unexpected login as ${o?.user}`);
  });
}

describe('makeConnector: why a host that refused root could not be logged in to', () => {
  afterEach(() => vi.restoreAllMocks());

  it("gives the admin's refusal when the admin was tried as well", async () => {
    refuse({ root: rootRefused, hfadmin: new AuthFailedError('web1', 'all configured keys were rejected for user hfadmin', 'check ~hfadmin/.ssh/authorized_keys') });
    const open = makeConnector({}).open(spec({ admin_user: 'hfadmin', admin_private_key_file: adminKey }));
    await expect(open).rejects.toThrow(`${rootRefused.message}; as the admin hfadmin: all configured keys were rejected for user hfadmin`);
    await expect(open).rejects.toMatchObject({ hint: 'check ~hfadmin/.ssh/authorized_keys' });
  });

  it('names a missing admin key, and the var that points at it', async () => {
    const login = refuse({ root: rootRefused });
    const open = makeConnector({}).open(spec({ admin_user: 'hfadmin', admin_private_key_file: '/nonexistent/admin_ed25519' }));
    await expect(open).rejects.toThrow('the admin key /nonexistent/admin_ed25519 does not exist');
    await expect(open).rejects.toMatchObject({ hint: expect.stringContaining('admin_private_key_file') });
    expect(login.mock.calls.every(([, o]) => o?.user === undefined)).toBe(true);
  });

  it('tells how to reach a hardened host when no admin login is configured', async () => {
    refuse({ root: rootRefused });
    await expect(makeConnector({}).open(spec({}))).rejects.toMatchObject({
      message: rootRefused.message,
      hint: expect.stringContaining('set admin_user and admin_private_key_file'),
    });
  });
});
