import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { checkFlags, joinDashValues } from '../../src/cli/argv.js';
import { program } from '../../src/cli/program.js';
import type { UsageError } from '../../src/core/errors.js';

describe('joinDashValues', () => {
  it('keeps `--json -` (stdout) one option, so `-` is never taken for a host pattern', () => {
    expect(joinDashValues(['run', '--json', '-', '-i', 'a.yml'])).toEqual(['run', '--json=-', '-i', 'a.yml']);
    expect(joinDashValues(['facts', 'web1', '--json', '-'])).toEqual(['facts', 'web1', '--json=-']);
  });

  it('leaves other values, a bare --json and the remote command alone', () => {
    expect(joinDashValues(['run', '--json', 'out.json', '--', 'x'])).toEqual(['run', '--json', 'out.json', '--', 'x']);
    expect(joinDashValues(['facts', '--json'])).toEqual(['facts', '--json']);
    expect(joinDashValues(['run', '--', 'mytool', '--json', '-'])).toEqual(['run', '--', 'mytool', '--json', '-']);
  });
});

type Case = { words: string[]; error: string; message?: string; hint?: string };
const dir = resolve('test/fixtures/cli');
const cases = load(readFileSync(join(dir, 'cases.yml'), 'utf8')) as Case[];
const subst = (w: string) => ({ $A: join(dir, 'a.yml'), $B: join(dir, 'b.yml'), $PB: 'playbooks/docker-host.yml' })[w] ?? w;

/** Parse and run words exactly as the CLI does, ssh_config left out; the error it ends with. */
async function refusal(words: string[]): Promise<Error> {
  try {
    const noSsh = words.includes('--ssh-config') ? [] : ['--ssh-config', resolve('test/fixtures/inventory/empty_ssh_config')];
    // before any `--`: what follows it is run's command
    const dash = words.includes('--') ? words.indexOf('--') : words.length;
    const argv = [...words.slice(0, dash).map(subst), ...noSsh, ...words.slice(dash)];
    await (await program(argv)).fail(false).exitProcess(false).parseAsync();
  } catch (e) {
    return e as Error;
  }
  throw new Error(`hardfleet ${words.join(' ')} was not refused`);
}

describe('command lines refused before any host is touched', () => {
  it.each(cases)('$words.0 $words', async ({ words, error, message, hint }) => {
    const e = await refusal(words);
    expect(e.name).toBe(error);
    if (message) expect(e.message).toContain(message);
    if (hint) expect((e as UsageError).hint).toContain(hint);
  });
});

describe('checkFlags', () => {
  it('collects repeated list flags and splits the comma ones', () => {
    const a: Record<string, unknown> = { inventory: ['a.yml', 'b,c.yml'], tags: ['ssh, firewall', 'docker'], limit: 'web', forks: '5' };
    checkFlags(a, { lists: { inventory: { commas: false }, tags: { commas: true } }, numbers: ['forks'] });
    expect(a).toEqual({ inventory: ['a.yml', 'b,c.yml'], tags: ['ssh', 'firewall', 'docker'], limit: 'web', forks: 5 });
  });

  it('reads one value of a list flag as a list of one', () => {
    const a: Record<string, unknown> = { inventory: 'inventory/lab.yml' };
    checkFlags(a, { lists: { inventory: { commas: false } } });
    expect(a.inventory).toEqual(['inventory/lab.yml']);
  });

  it('names the flag, not its alias or camelCase twin', () => {
    expect(() => checkFlags({ f: [1, 2], forks: [1, 2], maxFail: [1, 2], 'max-fail': [1, 2] }, {})).toThrow('--forks given 2 times');
  });
});

describe('credentials checked before any connection', () => {
  it('refuses a host whose every identity file is missing when there is no ssh-agent', async () => {
    const agent = process.env.SSH_AUTH_SOCK;
    delete process.env.SSH_AUTH_SOCK;
    try {
      const e = await refusal(['run', '-i', join(dir, 'missing-key.yml'), '--', 'uptime']);
      expect(e.name).toBe('UsageError');
      expect(e.message).toBe('host "web1": no credentials to log in as root: identity file /nonexistent/hardfleet/id_ed25519 not found, and no ssh-agent');
      expect((e as UsageError).hint).toContain('ansible_ssh_private_key_file');
    } finally {
      if (agent !== undefined) process.env.SSH_AUTH_SOCK = agent;
    }
  });
});
