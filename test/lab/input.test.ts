/**
 * Hosts in trouble and operators in a hurry, on real hosts: sshd down, a cut link, an admin key
 * missing from the vars, Ctrl-C during a rollout, a daemon.json that is not JSON. Each case says
 * what hardfleet must print and proves out-of-band (console, plain OpenSSH) what it left behind.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/engine/report.js';
import { CLI, ROOT, hardfleet, labFile, onHost, skipLab, ssh } from './support.js';

/** web1 (canary) and db1. */
const LAB = 'tryin';
const INV = `/tmp/hardfleet-test-${LAB}.yml`;
const scratch = mkdtempSync(join(tmpdir(), 'hf-input-'));
const ipv4 = (name: string): string => JSON.parse(readFileSync(labFile(LAB, 'state.json'), 'utf8')).hosts.find((h: { name: string }) => h.name === name).ipv4;

describe.skipIf(skipLab)('bad situations on real hosts', () => {
  beforeAll(() => {
    const r = hardfleet(['lab', 'up', '--name', LAB, '--hosts', '2', '--inventory', INV]);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => {
    hardfleet(['lab', 'down', '--name', LAB]);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('names a host whose sshd is down, and one whose link is cut, as unreachable with a hint', () => {
    expect(onHost(LAB, 'db1', 'systemctl stop ssh.socket ssh.service').code).toBe(0);
    try {
      const r = hardfleet(['facts', '-i', INV, 'db1']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`db1: connection refused by ${ipv4('db1')}:22`);
      expect(r.stderr).toContain('hint: is sshd listening on port 22?');
    } finally {
      onHost(LAB, 'db1', 'systemctl start ssh.service');
    }
    expect(hardfleet(['lab', 'cut', '--name', LAB, 'db1']).code).toBe(0);
    try {
      const r = hardfleet(['facts', '-i', INV, 'db1', '--connect-timeout', '3']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/db1: (no answer from|no route to) /);
      expect(r.stderr).toContain('hint: is the host up');
    } finally {
      hardfleet(['lab', 'heal', '--name', LAB, 'db1']);
    }
  });

  it('refuses to lock out a fresh host whose admin key is missing from the vars', () => {
    const inv = join(scratch, 'no-admin-keys.yml');
    writeFileSync(inv, readFileSync(INV, 'utf8').replace(/^ *admin_keys:\n( *- .*\n)+/m, ''));
    const r = hardfleet(['apply', '-i', inv, '--limit', 'db1']);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('admin user hfadmin has no authorized key and admin_keys is empty');
    expect(r.stdout).toContain('hint: add the operator');
    expect(r.stdout).toContain('nothing was changed on this host');
    // refused before its first step: the development tools are still there
    expect(onHost(LAB, 'db1', 'for c in gcc make; do command -v $c; done').stdout.trim().split('\n')).toHaveLength(2);
    expect(ssh(LAB, ipv4('db1'), 'sshd -T | grep -i "^permitrootlogin"').stdout.trim()).toBe('permitrootlogin yes');
  });

  it('on Ctrl-C lets the running host finish, starts no other, and still writes the recap and the report', async () => {
    // What a run would change on db1, read out-of-band before and after.
    const db1State = () => onHost(LAB, 'db1', 'dpkg-query -W; sshd -T; iptables -S; ip6tables -S; getent passwd; ss -Hltn; cat /etc/docker/daemon.json 2>&1; ls /var/lib/hardfleet 2>&1').stdout;
    const before = db1State();
    const json = join(scratch, 'interrupted.json');
    const child = spawn(process.execPath, [CLI, 'apply', '-i', INV, '--serial', '1', '--json', json], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const code = await new Promise<number | null>((done) => {
      const read = (chunk: Buffer) => {
        out += chunk.toString();
        // web1 is past the point of no return for its first step: interrupt now.
        if (out.includes('packages.minimal') && !child.killed) child.kill('SIGINT');
      };
      child.stdout.on('data', read);
      child.stderr.on('data', read);
      child.on('exit', (c) => done(c));
    });
    expect(code, out).toBe(3);
    expect(out).toContain('interrupt: finishing running hosts, starting no new one');
    expect(out).toContain('rollout stopped: interrupted');
    const report = JSON.parse(readFileSync(json, 'utf8')) as RunReport;
    expect(report.hosts.db1!.status).toBe('not-started');
    expect(report.hosts.web1!.status).not.toBe('not-started');
    expect(db1State(), 'db1 was never touched').toBe(before);
    expect(ssh(LAB, ipv4('web1'), 'true', { user: 'hfadmin', key: labFile(LAB, 'admin_ed25519') }).code, 'the admin can still log in to web1').toBe(0);
  });

  it('leaves a daemon.json that is not JSON alone, and says which file on which host', () => {
    expect(onHost(LAB, 'web1', `printf '{ "icc": false, oops\\n' > /etc/docker/daemon.json`).code).toBe(0);
    const r = hardfleet(['apply', '-i', INV, '--limit', 'web1', '--tags', 'docker']);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('docker.daemon: /etc/docker/daemon.json is not a JSON object');
    expect(r.stdout).toContain('hint: fix the file by hand first');
    expect(onHost(LAB, 'web1', 'cat /etc/docker/daemon.json').stdout).toBe('{ "icc": false, oops\n');
  });
});
