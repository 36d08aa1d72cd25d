import { readFileSync, existsSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hardfleet, labFile, onHost, sh, skipLab, ssh } from './support.js';

const LAB = 'tlab';

interface State {
  slot: number;
  hosts: Array<{ name: string; ipv4: string; ipv6: string; netns: string; veth: string; pid: number; mountpoint?: string }>;
}
const state = (): State => JSON.parse(readFileSync(labFile(LAB, 'state.json'), 'utf8'));
/** A zombie is dead: it waits only for its parent to read its exit status. */
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

describe.skipIf(skipLab)('lab of full hosts', () => {
  beforeAll(() => {
    const r = hardfleet(['lab', 'up', '--name', LAB, '--hosts', '2', '--inventory', `/tmp/hardfleet-test-${LAB}.yml`]);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => {
    hardfleet(['lab', 'down', '--name', LAB]);
  });

  it('boots an out-of-the-box, unhardened Debian server', () => {
    expect(onHost(LAB, 'web1', 'systemctl is-system-running --wait').stdout).toMatch(/running|degraded/);
    const t = onHost(LAB, 'web1', 'sshd -T -C user=root,host=x,addr=198.18.0.1');
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/^permitrootlogin yes$/m);
    expect(t.stdout).toMatch(/^passwordauthentication yes$/m);
    expect(onHost(LAB, 'web1', "grep -v '^#' /etc/ssh/sshd_config | grep -m1 .").stdout.trim()).toBe('Include /etc/ssh/sshd_config.d/*.conf');
    expect(onHost(LAB, 'web1', 'cat /etc/ssh/sshd_config.d/50-cloud-init.conf').stdout).toMatch(/PasswordAuthentication yes/);
    expect(onHost(LAB, 'web1', 'systemctl is-active docker ssh').stdout.split('\n').slice(0, 2)).toEqual(['active', 'active']);
    const listen = onHost(LAB, 'web1', 'ss -Hltn').stdout;
    for (const port of [':22 ', ':23 ', ':111 ']) expect(listen).toContain(port);
    expect(onHost(LAB, 'web1', 'for c in gcc make python3; do command -v $c; done').stdout.trim().split('\n')).toHaveLength(3);
    expect(onHost(LAB, 'web1', 'test -e /etc/docker/daemon.json; echo $?').stdout.trim()).toBe('1');
    // INPUT is wide open on both families; FORWARD belongs to dockerd, which sets it to DROP itself.
    expect(onHost(LAB, 'web1', 'iptables -S INPUT; ip6tables -S INPUT').stdout).toBe('-P INPUT ACCEPT\n-P INPUT ACCEPT\n');
    expect(onHost(LAB, 'web1', 'iptables -S FORWARD').stdout).toMatch(/-A FORWARD -j DOCKER-USER/);
    // sudo resolves its own hostname without complaint
    expect(onHost(LAB, 'db1', 'sudo -n true 2>&1; getent hosts $(hostname)').stdout).toMatch(/db1/);
    expect(onHost(LAB, 'db1', 'sudo -n true 2>&1').stdout).not.toMatch(/unable to resolve/);
  });

  it('runs every host in cgroups of its own (hosts sharing one remove each other\'s unit cgroups)', () => {
    const cgroup = (host: string) => readFileSync(`/proc/${readFileSync(labFile(LAB, `hosts/${host}/init.pid`), 'utf8').trim()}/cgroup`, 'utf8');
    if (existsSync('/sys/fs/cgroup/systemd/cgroup.procs')) {
      expect(cgroup('web1')).toMatch(new RegExp(`^\\d+:name=systemd:/hardfleet-lab/hf-${LAB}-web1/`, 'm'));
      expect(cgroup('db1')).toMatch(new RegExp(`^\\d+:name=systemd:/hardfleet-lab/hf-${LAB}-db1/`, 'm'));
    }
    // the unit that failed when hosts shared a cgroup: without it /run/nologin refuses non-root logins
    for (const h of ['web1', 'db1']) expect(onHost(LAB, h, 'systemctl is-active systemd-user-sessions; test -e /run/nologin; echo $?').stdout).toBe('active\n1\n');
  });

  it('gives every host its own hostname and host key, and keeps the root password private', () => {
    expect(onHost(LAB, 'web1', 'hostname').stdout.trim()).toBe('web1');
    expect(onHost(LAB, 'db1', 'hostname').stdout.trim()).toBe('db1');
    const keys = readFileSync(labFile(LAB, 'known_hosts'), 'utf8').trim().split('\n').map((l) => l.split(' ')[2]);
    expect(new Set(keys).size).toBe(2);
    expect(statSync(labFile(LAB, 'root-password')).mode & 0o777).toBe(0o600);
  });

  it('serves a security update and a regular update from the lab repository', () => {
    const r = onHost(LAB, 'web1', 'apt-get -qq update && apt list --upgradable 2>/dev/null');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/hardfleet-lab-secfix\/bookworm-security \S+ all \[upgradable from: 1\.0-1\]/);
    expect(r.stdout).toMatch(/hardfleet-lab-feature\/bookworm-updates 1\.1-1 all \[upgradable from: 1\.0-1\]/);
    expect(onHost(LAB, 'web1', 'apt-cache policy').stdout).toMatch(/release o=Debian,a=bookworm-security,n=bookworm-security,l=Debian-Security/);
  });

  it('answers plain OpenSSH over IPv4 and IPv6 with strict host key checking', () => {
    const [web1] = state().hosts;
    const v4 = ssh(LAB, web1.ipv4, 'hostname');
    expect(v4.code, v4.stderr).toBe(0);
    expect(v4.stdout.trim()).toBe('web1');
    const v6 = ssh(LAB, web1.ipv6, 'hostname');
    expect(v6.code, v6.stderr).toBe(0);
  });

  it('writes an inventory with groups, a canary tag, the key and known_hosts', () => {
    const inv = readFileSync(`/tmp/hardfleet-test-${LAB}.yml`, 'utf8');
    expect(inv).toMatch(/web:\n\s+hosts:\n\s+web1:/);
    expect(inv).toMatch(/- canary/);
    expect(inv).toContain(`ansible_ssh_private_key_file: ${labFile(LAB, 'id_ed25519')}`);
    expect(inv).toContain(`known_hosts: ${labFile(LAB, 'known_hosts')}`);
  });

  it('cuts and heals a host link', () => {
    const [web1] = state().hosts;
    expect(hardfleet(['lab', 'cut', '--name', LAB, 'web1']).code).toBe(0);
    expect(ssh(LAB, web1.ipv4, 'true').code).not.toBe(0);
    expect(hardfleet(['lab', 'status', '--name', LAB]).stdout).toMatch(/web1\s+full\s+cut/);
    expect(hardfleet(['lab', 'heal', '--name', LAB, 'web1']).code).toBe(0);
    expect(ssh(LAB, web1.ipv4, 'true').code).toBe(0);
  });

  it('brings a host back after lab reboot and after a reboot from inside', () => {
    const [, db1] = state().hosts;
    onHost(LAB, 'db1', 'touch /root/survives-reboot');
    const bootBefore = onHost(LAB, 'db1', 'cat /proc/sys/kernel/random/boot_id; systemctl show -p ActiveEnterTimestampMonotonic --value init.scope').stdout;
    const r = hardfleet(['lab', 'reboot', '--name', LAB, 'db1']);
    expect(r.code, r.stderr).toBe(0);
    expect(ssh(LAB, db1.ipv4, 'test -e /root/survives-reboot && systemctl is-system-running --wait').stdout).toMatch(/running|degraded/);
    const bootAfter = onHost(LAB, 'db1', 'cat /proc/sys/kernel/random/boot_id; systemctl show -p ActiveEnterTimestampMonotonic --value init.scope').stdout;
    expect(bootAfter).not.toBe(bootBefore);
    // from inside, as a playbook would after updates
    ssh(LAB, db1.ipv4, 'systemctl reboot');
    let back = false;
    for (let i = 0; i < 120 && !back; i++) {
      sh('sleep 0.5');
      back = ssh(LAB, db1.ipv4, 'true').code === 0 && onHost(LAB, 'db1', 'systemctl show -p ActiveEnterTimestampMonotonic --value init.scope').stdout !== bootAfter.split('\n')[1];
    }
    expect(back).toBe(true);
  });

  it('lab up again on a running lab changes nothing', () => {
    const before = state().hosts.map((h) => h.pid);
    const r = hardfleet(['lab', 'up', '--name', LAB, '--hosts', '2', '--inventory', `/tmp/hardfleet-test-${LAB}.yml`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/already up/);
    expect(state().hosts.map((h) => h.pid)).toEqual(before);
  });

  it('cleans up after a crash: killed supervisors, orphaned hosts, a half-made lab', () => {
    const s = state();
    // Simulate a crashed controller: the supervisors die without cleaning up, the hosts keep running.
    for (const h of s.hosts) process.kill(h.pid, 'SIGKILL');
    for (let i = 0; i < 50 && s.hosts.some((h) => alive(h.pid)); i++) sh('sleep 0.1');
    const inits = s.hosts.map((h) => Number(readFileSync(labFile(LAB, `hosts/${h.name}/init.pid`), 'utf8')));
    const r = hardfleet(['lab', 'up', '--name', LAB, '--hosts', '2', '--inventory', `/tmp/hardfleet-test-${LAB}.yml`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/cleaning up/);
    for (const pid of inits) expect(alive(pid)).toBe(false);
    expect(ssh(LAB, state().hosts[0].ipv4, 'hostname').stdout.trim()).toBe('web1');
  });

  it('takes the lab down leaving no namespace, mount, link, route or process behind', () => {
    const s = state();
    const pids = s.hosts.map((h) => h.pid);
    const inits = s.hosts.map((h) => Number(readFileSync(labFile(LAB, `hosts/${h.name}/init.pid`), 'utf8')));
    const r = hardfleet(['lab', 'down', '--name', LAB]);
    expect(r.code, r.stderr).toBe(0);
    const netns = sh('ip netns list');
    for (const h of s.hosts) {
      expect(netns).not.toContain(h.netns);
      expect(sh(`ip link show ${h.veth} 2>&1 || true`)).toMatch(/does not exist/);
    }
    expect(sh(`ip link show hfbr${s.slot} 2>&1 || true`)).toMatch(/does not exist/);
    expect(readFileSync('/proc/self/mounts', 'utf8')).not.toContain(`/labs/${LAB}/`);
    for (const pid of [...pids, ...inits]) expect(alive(pid)).toBe(false);
    expect(existsSync(labFile(LAB, 'state.json'))).toBe(false);
    expect(existsSync(`/tmp/hardfleet-test-${LAB}.yml`)).toBe(false);
  });
});

describe.skipIf(skipLab)('lab of light hosts', () => {
  const L = 'tlight';
  afterAll(() => {
    hardfleet(['lab', 'down', '--name', L]);
  });

  it('boots many sshd-only hosts that answer OpenSSH and the console', () => {
    const r = hardfleet(['lab', 'up', '--name', L, '--kind', 'light', '--hosts', '30', '--inventory', `/tmp/hardfleet-test-${L}.yml`]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(labFile(L, 'state.json'), 'utf8')) as State;
    expect(s.hosts).toHaveLength(30);
    const last = s.hosts[29];
    const out = ssh(L, last.ipv4, 'hostname; test -d /run/systemd/system && echo systemd || echo no-systemd');
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.trim().split('\n')).toEqual([last.name, 'no-systemd']);
    expect(onHost(L, last.name, 'hostname').stdout.trim()).toBe(last.name);
    expect(hardfleet(['lab', 'down', '--name', L]).code).toBe(0);
    for (const h of s.hosts) expect(alive(h.pid)).toBe(false);
    expect(sh('ip netns list')).not.toMatch(new RegExp(`\\bhf${s.slot}-`));
  });
});
