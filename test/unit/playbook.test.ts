import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { PlaybookError } from '../../src/core/errors.js';
import { loadPlaybook, parsePlaybook, selectSteps } from '../../src/playbook/load.js';

type Bad = { case: string; text: string; message: string; line?: number; hint?: string };
const bad = load(readFileSync('test/fixtures/playbooks/bad.yml', 'utf8')) as Bad[];

describe('parsePlaybook: every mistake is a PlaybookError with file, line and words to act on', () => {
  it.each(bad)('$case', ({ text, message, line, hint }) => {
    let err: unknown;
    try {
      parsePlaybook(text, 'pb.yml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PlaybookError);
    const e = err as PlaybookError;
    expect(e.message).toContain(message);
    expect(e.message).not.toMatch(/Invalid input|expected \w+, received|Too (small|big)/);
    expect(e.file).toBe('pb.yml');
    expect(e.line).toBe(line);
    if (hint) expect(e.hint).toContain(hint);
  });
});

describe('the default playbook', () => {
  const pb = loadPlaybook('playbooks/docker-host.yml');

  it('loads with its steps in order, each tagged with its own id', () => {
    expect(pb.steps.map((s) => s.id)).toEqual(['packages.minimal', 'packages.security-updates', 'admin-user', 'sshd', 'services.minimal', 'docker.daemon', 'firewall']);
    expect(pb.steps.find((s) => s.id === 'sshd')!.tags).toEqual(['ssh', 'sshd']);
    expect(pb.serial).toEqual([1, '50%']);
  });

  it('selects steps by --tags and --skip-tags, and refuses a tag no step has', () => {
    expect(selectSteps(pb.steps, ['ssh']).map((s) => s.id)).toEqual(['admin-user', 'sshd']);
    expect(selectSteps(pb.steps, ['ssh'], ['admin-user']).map((s) => s.id)).toEqual(['sshd']);
    expect(() => selectSteps(pb.steps, ['ssh', 'nosuch'])).toThrow('no step has the tag "nosuch"');
  });

  it('refuses a selection that leaves no step (it would still connect to every host)', () => {
    expect(() => selectSteps(pb.steps, ['ssh'], ['ssh'])).toThrow('no step left to run with --tags ssh --skip-tags ssh');
    expect(() => selectSteps(pb.steps, [], ['all'])).toThrow('no step left to run with --skip-tags all');
  });

  it('takes ports written as strings, as Ansible users write them', () => {
    const p = parsePlaybook('name: x\nvars:\n  sshd_port: "2222"\nsteps:\n  - id: firewall\n    settings:\n      open_ports: [{port: "443", source: 2001:db8::/32}]\n', 'pb.yml');
    expect(p.steps[0]!.settings).toMatchObject({ open_ports: [{ port: 443, source: '2001:db8::/32' }] });
  });
});
