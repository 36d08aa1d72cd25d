import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseIptablesSave } from '../../src/facts/parsers.js';
import type { HostFacts } from '../../src/facts/types.js';
import { steps } from '../../src/steps/index.js';
import { StepRefusedError, type PlanContext } from '../../src/steps/types.js';
import { FakeRemote } from '../fixtures/steps/fake-remote.js';
import { loadFacts, merge } from './steps.test.js';

const ctx = (vars: Record<string, unknown> = {}, settings: Record<string, unknown> = {}, id = ''): PlanContext =>
  ({ vars, settings: id ? steps[id]!.settingsSchema.parse(settings) as Record<string, unknown> : settings });

describe('sshd', () => {
  it('drop-in carries every setting; the main file and the Match block are left as they are', () => {
    const plan = steps.sshd!.plan(loadFacts('debian12'), ctx({ admin_user: 'ops' }, {}, 'sshd'));
    const [file] = plan.changes[0]!.files!;
    expect(file!.before).toBeNull();
    expect(file!.after).toContain('PermitRootLogin no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n');
    expect(file!.after).not.toMatch(/AllowTcpForwarding|^Port/m);
    expect(plan.changes[0]!.guard).toBe('login');
    expect(plan.changes[0]!.backupPaths).toEqual(['/etc/ssh/sshd_config.d/00-hardfleet.conf']);
  });

  it('without Include on top, writes a managed block before the first Match block (never after it)', () => {
    const plan = steps.sshd!.plan(loadFacts('alma8'), ctx({ admin_user: 'ops', admin_keys: ['ssh-ed25519 AAAA k'] }, {}, 'sshd'));
    const after = plan.changes[0]!.files![0]!.after!;
    expect(after.indexOf('PermitRootLogin no')).toBeLessThan(after.indexOf('Match User backup'));
    expect(after.startsWith('# BEGIN hardfleet\n')).toBe(true);
    expect(after).toContain('ChallengeResponseAuthentication no');
    expect(after).not.toContain('KbdInteractiveAuthentication');
    expect(after.endsWith('Match User backup\n\tPasswordAuthentication yes\n')).toBe(true);
    // Re-planning over a file that already has the block replaces it instead of stacking a second one.
    const f2 = merge(loadFacts('alma8'), { sshdFiles: { '/etc/ssh/sshd_config': after } });
    const again = steps.sshd!.plan(f2, ctx({ admin_user: 'ops', admin_keys: ['ssh-ed25519 AAAA k'] }, { directives: { MaxAuthTries: '4' } }, 'sshd'));
    expect(again.changes[0]!.files![0]!.after!.match(/# BEGIN hardfleet/g)).toHaveLength(1);
  });

  it('apply validates with sshd -t before reloading, and restores the files when sshd -t fails', async () => {
    const change = steps.sshd!.plan(loadFacts('debian12'), ctx({ admin_user: 'ops' }, {}, 'sshd')).changes[0]!;
    const ok = new FakeRemote();
    await change.apply(ok);
    expect(ok.indexOf(/sshd -t/)).toBeLessThan(ok.indexOf(/^systemctl reload ssh$/));
    expect(ok.files.get('/etc/ssh/sshd_config.d/00-hardfleet.conf')!.options.mode).toBe(0o600);
    const bad = new FakeRemote([[/sshd -t/, { code: 255, stderr: 'Bad configuration option' }]]);
    await expect(change.apply(bad)).rejects.toThrow(/sshd -t rejected/);
    expect(bad.indexOf(/mv -f .*hardfleet-prev/)).toBeGreaterThan(bad.indexOf(/sshd -t/));
    expect(bad.indexOf(/systemctl reload/)).toBe(-1);
  });

  it('verify reads sshd -T for the admin user and names what still differs', async () => {
    const change = steps.sshd!.plan(loadFacts('debian12'), ctx({ admin_user: 'ops' }, {}, 'sshd')).changes[0]!;
    const r = new FakeRemote([[/sshd -T/, { stdout: 'permitrootlogin yes\npasswordauthentication no\n' }]]);
    await expect(change.verify!(r)).rejects.toThrow(/PermitRootLogin yes/);
    expect(r.commands[0]).toBe('sshd -T -C user=ops,host=x,addr=198.18.0.1');
  });

  it('case ubuntu-ssh-socket-port: socket restarted, proof on 2222 before 22 closes', async () => {
    const plan = steps.sshd!.plan(loadFacts('ubuntu2404'), ctx({ admin_user: 'ubuntu', sshd_port: 2222 }, {}, 'sshd'));
    const [fw, both, only] = plan.changes;
    expect(both!.proveLoginOn).toBe(2222);
    expect(only!.proveLoginOn).toBeUndefined();
    const r = new FakeRemote();
    await fw!.apply(r);
    expect(r.commands[0]).toContain('iptables -I INPUT 1 -p tcp -m tcp --dport 2222');
    expect(r.commands[0]).toContain('ip6tables');
    await both!.apply(r);
    expect(r.files.get('/etc/ssh/sshd_config.d/00-hardfleet.conf')!.content).toMatch(/^Port 22\nPort 2222\n/m);
    expect(r.commands).toContain('systemctl daemon-reload && systemctl restart ssh.socket');
    await only!.apply(r);
    expect(r.files.get('/etc/ssh/sshd_config.d/00-hardfleet.conf')!.content).toMatch(/^Port 2222\nPermitRootLogin/m);
    expect(both!.rollbackScript).toBe('systemctl daemon-reload && systemctl restart ssh.socket');
  });

  it('case rhel-selinux-port: semanage -a else -m, firewalld, reload sshd', async () => {
    const f = loadFacts('rocky9');
    expect(f.pkgManager).toBe('dnf');
    const plan = steps.sshd!.plan(f, ctx({ admin_user: 'rocky', sshd_port: 2222 }, {}, 'sshd'));
    const r = new FakeRemote();
    for (const c of plan.changes) await c.apply(r);
    const semanage = r.indexOf(/semanage port -a -t ssh_port_t -p tcp 2222 2>\/dev\/null \|\| semanage port -m/);
    const fw = r.indexOf(/firewall-cmd --permanent --add-port=2222\/tcp/);
    const test = r.indexOf(/sshd -t/);
    const reload = r.indexOf(/^systemctl reload sshd$/);
    expect(semanage).toBeGreaterThanOrEqual(0);
    expect(semanage < fw && fw < test && test < reload).toBe(true);
    expect(r.indexOf(/--remove-service=ssh/)).toBeGreaterThan(reload);
  });

  it('case admin-key-missing: refuses when the admin has no key at all', () => {
    const f = merge(loadFacts('debian12'), { admin: { authorizedKeys: null } });
    expect(() => steps.sshd!.plan(f, ctx({ admin_user: 'ops' }, {}, 'sshd'))).toThrow(StepRefusedError);
    expect(() => steps['admin-user']!.plan(f, ctx({ admin_user: 'ops' }, {}, 'admin-user'))).toThrow(/no authorized key/);
  });
});

describe('admin-user', () => {
  it('case admin-key-missing: repairs modes, then sudoers checked by visudo before install', async () => {
    const plan = steps['admin-user']!.plan(loadFacts('debian12'), ctx({ admin_user: 'ops' }, {}, 'admin-user'));
    const r = new FakeRemote();
    for (const c of plan.changes) await c.apply(r);
    expect(r.commands.join('\n')).toContain('chmod go-w "$h"');
    expect(r.commands.join('\n')).toContain('chmod 700 "$h/.ssh"');
    expect(r.commands.join('\n')).toContain('chmod 600 "$h/.ssh/authorized_keys"');
    const visudo = r.indexOf(/^visudo -cf \/etc\/sudoers.d\/.hardfleet-ops.new$/);
    expect(visudo).toBeGreaterThan(r.indexOf(/<write \/etc\/sudoers.d\/.hardfleet-ops.new>/));
    expect(r.indexOf(/^mv -f \/etc\/sudoers.d\/.hardfleet-ops.new \/etc\/sudoers.d\/90-hardfleet-ops$/)).toBeGreaterThan(visudo);
  });
  it('a sudoers file visudo rejects is never installed', async () => {
    const plan = steps['admin-user']!.plan(loadFacts('debian12'), ctx({ admin_user: 'ops' }, {}, 'admin-user'));
    const r = new FakeRemote([[/^visudo/, { code: 1, stderr: 'syntax error' }]]);
    await expect(plan.changes[1]!.apply(r)).rejects.toThrow(/visudo rejected/);
    expect(r.indexOf(/^mv /)).toBe(-1);
  });
  it('creates a missing admin with no password rather than a locked one (sshd without PAM refuses locked accounts)', async () => {
    const f = merge(loadFacts('debian12'), { admin: null, users: [] });
    const plan = steps['admin-user']!.plan(f, ctx({ admin_user: 'hfadmin', admin_keys: ['ssh-ed25519 AAAA k'] }, {}, 'admin-user'));
    const r = new FakeRemote();
    await plan.changes[0]!.apply(r);
    expect(r.commands[0]).toBe("useradd -m -U -p '*' -s /bin/bash hfadmin");
  });
  it('installs sudo after refreshing lists only when apt does not know the package yet', async () => {
    const f = merge(loadFacts('debian12'), { tools: { sudo: false, visudo: false } });
    const plan = steps['admin-user']!.plan(f, ctx({ admin_user: 'ops' }, {}, 'admin-user'));
    const r = new FakeRemote();
    for (const c of plan.changes) await c.apply(r);
    expect(r.commands).toContain('export DEBIAN_FRONTEND=noninteractive; apt-get -y install sudo || { apt-get -q update && apt-get -y install sudo; }');
    // the shell really does retry after the update
    const script = r.commands.find((c) => c.includes('install sudo'))!.replace(/apt-get/g, 'fake_apt');
    const out = execFileSync('sh', ['-c', `fake_apt() { echo "apt $*"; [ "$1" = -q ] || [ -e "$T/updated" ] || return 100; [ "$1" = -q ] && touch "$T/updated"; return 0; }; T=$(mktemp -d); ${script}`], { encoding: 'utf8' });
    expect(out).toBe('apt -y install sudo\napt -q update\napt -y install sudo\n');
  });
  it('refuses a user name that is not one', () => {
    expect(() => steps['admin-user']!.plan(loadFacts('debian12'), ctx({ admin_user: 'x; rm -rf /' }, {}, 'admin-user'))).toThrow(/not a valid user name/);
  });
});

/** The filter table as the live script leaves it (Docker's chains untouched). */
function afterFirewall(f: HostFacts, input: Record<'v4' | 'v6', string[]>, docker: Record<'v4' | 'v6', string[] | null>): HostFacts {
  const filter = { ...f.firewall.filter };
  for (const fam of ['v4', 'v6'] as const) {
    const t = structuredClone(f.firewall.filter[fam]!);
    t.chains.INPUT = { policy: 'DROP', rules: ['-A INPUT -j HARDFLEET-INPUT', ...t.chains.INPUT!.rules] };
    t.chains.FORWARD!.policy = 'DROP';
    t.chains['HARDFLEET-INPUT'] = { policy: null, rules: input[fam] };
    if (docker[fam]) {
      t.chains['DOCKER-USER']!.rules.unshift('-A DOCKER-USER -j HARDFLEET-DOCKER');
      t.chains['HARDFLEET-DOCKER'] = { policy: null, rules: docker[fam]! };
    }
    filter[fam] = t;
  }
  return { ...f, firewall: { ...f.firewall, filter } };
}

describe('firewall', () => {
  const settings = { open_ports: [{ port: 443 }, { port: 9100, source: '10.0.0.5' }], container_ports: [{ port: 80 }] };

  it('case docker-owns-forward: our chains only, Docker chains never flushed, persisted without them', async () => {
    const f = loadFacts('debian12');
    const plan = steps.firewall!.plan(f, ctx({}, settings, 'firewall'));
    expect(plan.changes.map((c) => c.summary)).toEqual([
      expect.stringMatching(/^iptables: INPUT policy DROP, INPUT jumps to HARDFLEET-INPUT first, HARDFLEET-INPUT rules, DOCKER-USER jumps to HARDFLEET-DOCKER first, HARDFLEET-DOCKER rules \(ssh 22\)$/),
      expect.stringMatching(/^ip6tables: INPUT policy DROP, FORWARD policy DROP/),
      expect.stringMatching(/^persist rules \(\/etc\/iptables\/rules.v4, \/etc\/iptables\/rules.v6/),
    ]);
    const r = new FakeRemote();
    for (const c of plan.changes) await c.apply(r);
    const all = r.commands.join('\n');
    for (const c of r.commands.filter((x) => !x.startsWith('<write'))) expect(() => execFileSync('sh', ['-n'], { input: c })).not.toThrow();
    expect(all).not.toMatch(/iptables -F(\s|$)|-F DOCKER|-X DOCKER|iptables-restore(?! --noflush)/);
    expect(all).toContain('-A HARDFLEET-DOCKER -i eth0 -p tcp -m conntrack --ctorigdstport 80 -j RETURN');
    expect(all).toContain('-A HARDFLEET-DOCKER -i eth0 -j DROP');
    expect(all).toContain('-A HARDFLEET-INPUT -s 10.0.0.5/32 -p tcp -m tcp --dport 9100 -j ACCEPT');
    expect(all.indexOf('iptables -P INPUT DROP')).toBeGreaterThan(all.indexOf('-I INPUT 1 -j HARDFLEET-INPUT'));
    const v6 = r.commands.find((c) => c.startsWith('set -e') && c.includes('ip6tables-restore'))!;
    expect(v6).toContain('--icmpv6-type 135');
    expect(v6).not.toContain('9100');
    const persisted = r.files.get('/etc/iptables/rules.v4')!.content;
    expect(persisted).toContain(':INPUT DROP [0:0]');
    expect(persisted).not.toMatch(/DOCKER-ISOLATION|:DOCKER - |-A FORWARD/);
    expect(parseIptablesSave(persisted)!.chains['HARDFLEET-INPUT']!.rules).toHaveLength(6);
    expect(plan.changes[0]!.guard).toBe('login');
    for (const c of plan.changes) if (c.rollbackScript) expect(() => execFileSync('sh', ['-n'], { input: c.rollbackScript })).not.toThrow();
    expect(plan.changes[0]!.rollbackScript).toContain('iptables -P INPUT ACCEPT');
    expect(plan.changes[0]!.rollbackScript).toContain('iptables -X HARDFLEET-INPUT');
    expect(plan.changes[0]!.rollbackScript).not.toMatch(/DOCKER-ISOLATION|-F DOCKER-USER/);

    // Idempotence: planning on the state the change leaves gives nothing to do.
    const input = { v4: parseIptablesSave(persisted)!.chains['HARDFLEET-INPUT']!.rules, v6: parseIptablesSave(r.files.get('/etc/iptables/rules.v6')!.content)!.chains['HARDFLEET-INPUT']!.rules };
    const after = afterFirewall(f, input, { v4: parseIptablesSave(persisted)!.chains['HARDFLEET-DOCKER']!.rules, v6: null });
    after.firewall.persisted = { v4: persisted, v6: r.files.get('/etc/iptables/rules.v6')!.content };
    expect(steps.firewall!.plan(after, ctx({}, settings, 'firewall')).changes).toEqual([]);
  });

  it('keeps the current ssh port and the new one while a port move is under way', () => {
    const plan = steps.firewall!.plan(loadFacts('ubuntu2404'), ctx({ sshd_port: 2222 }, {}, 'firewall'));
    expect(plan.changes[0]!.summary).toContain('(ssh 22,2222)');
    expect(plan.changes.at(-1)!.summary).toMatch(/^persist rules/);
  });

  it('leaves firewalld hosts alone; writes /etc/sysconfig on iptables-services hosts', () => {
    expect(steps.firewall!.plan(loadFacts('rocky9'), ctx({}, {}, 'firewall')).notApplicable).toMatch(/firewalld/);
    const plan = steps.firewall!.plan(loadFacts('alma8'), ctx({}, {}, 'firewall'));
    expect(plan.changes.at(-1)!.files!.map((x) => x.path)).toEqual(['/etc/sysconfig/iptables', '/etc/sysconfig/ip6tables']);
  });
});

describe('docker.daemon', () => {
  it('case docker-removed-option: kept keys, no --validate before 23, restore when Docker does not come back', async () => {
    const plan = steps['docker.daemon']!.plan(loadFacts('alma8'), ctx({}, {}, 'docker.daemon'));
    const after = JSON.parse(plan.changes[0]!.files![0]!.after!);
    expect(after).toMatchObject({ 'log-driver': 'json-file', 'log-opts': { 'max-size': '10m' }, icc: false });
    expect(after['disable-legacy-registry']).toBeUndefined();
    expect(after['live-restore']).toBeUndefined();
    const ok = new FakeRemote();
    await plan.changes[0]!.apply(ok);
    expect(ok.indexOf(/--validate/)).toBe(-1);
    expect(ok.indexOf(/systemctl restart docker/)).toBeGreaterThan(ok.indexOf(/mv -f \/etc\/docker\/daemon.json.hardfleet-new/));
    const bad = new FakeRemote([[/systemctl restart docker \|\| exit 1/, { code: 1 }]]);
    await expect(plan.changes[0]!.apply(bad)).rejects.toThrow(/previous file restored/);
    expect(bad.indexOf(/mv -f \/etc\/docker\/daemon.json.hardfleet-prev \/etc\/docker\/daemon.json/)).toBeGreaterThan(0);
  });
  it('Docker >= 23 validates the candidate before it replaces the file', async () => {
    const plan = steps['docker.daemon']!.plan(loadFacts('debian12'), ctx({}, {}, 'docker.daemon'));
    const r = new FakeRemote([[/--validate/, { code: 1, stderr: 'unknown key' }]]);
    await expect(plan.changes[0]!.apply(r)).rejects.toThrow(/validate rejected/);
    expect(r.indexOf(/systemctl restart docker/)).toBe(-1);
    expect(r.indexOf(/mv -f \/etc\/docker\/daemon.json.hardfleet-new/)).toBe(-1);
  });
  it('tcp:// hosts get TLS files with strict modes', async () => {
    const f = merge(loadFacts('debian12'), { docker: { flags: ['-H', 'fd://', '-H', 'tcp://0.0.0.0:2376'] } });
    const plan = steps['docker.daemon']!.plan(f, ctx({}, { tls: { ca: 'CA', cert: 'CERT', key: 'KEY' } }, 'docker.daemon'));
    const r = new FakeRemote();
    await plan.changes[0]!.apply(r);
    expect(r.files.get('/etc/docker/tls/server-key.pem')!.options.mode).toBe(0o400);
    expect(r.files.get('/etc/docker/tls/ca.pem')!.options.mode).toBe(0o444);
    expect(JSON.parse(r.files.get('/etc/docker/daemon.json.hardfleet-new')!.content)).toMatchObject({ tlsverify: true, tlskey: '/etc/docker/tls/server-key.pem' });
    // no TLS material for a tcp:// API: the host fails before anything changes, unless the risk is accepted
    expect(() => steps['docker.daemon']!.plan(f, ctx({}, {}, 'docker.daemon'))).toThrow(/tcp:\/\/0.0.0.0:2376 without tlsverify/);
    expect(steps['docker.daemon']!.plan(f, ctx({}, { allow_insecure_tcp: true }, 'docker.daemon')).warnings.join()).toMatch(/without tlsverify/);
    // the host's own certificate (var docker_tls) wins over the playbook's
    const own = steps['docker.daemon']!.plan(f, ctx({ docker_tls: { ca: 'CA', cert: 'HOSTCERT', key: 'HOSTKEY' } }, { tls: { ca: 'CA', cert: 'CERT', key: 'KEY' } }, 'docker.daemon'));
    const r2 = new FakeRemote([[/docker info/, { stdout: 'true\nfalse\n' }]]);
    await own.changes[0]!.apply(r2);
    expect(r2.files.get('/etc/docker/tls/server-cert.pem')!.content).toBe('HOSTCERT');
    expect(() => steps['docker.daemon']!.plan(f, ctx({ docker_tls: { ca: 'CA' } }, {}, 'docker.daemon'))).toThrow(/docker_tls must be a mapping/);
  });
  it('TLS files are compared by checksum: the same material plans nothing, a new certificate is installed', () => {
    const sha = (t: string) => createHash('sha256').update(t).digest('hex');
    const tls = { ca: 'CA', cert: 'CERT', key: 'KEY' };
    const f = merge(loadFacts('debian12'), { docker: { flags: ['-H', 'fd://', '-H', 'tcp://0.0.0.0:2376'] } });
    const first = steps['docker.daemon']!.plan(f, ctx({}, { tls }, 'docker.daemon'));
    const installed = merge(f, {
      docker: {
        daemonJson: first.changes[0]!.files![0]!.after,
        tlsFiles: { '/etc/docker/tls/ca.pem': sha('CA'), '/etc/docker/tls/server-cert.pem': sha('CERT'), '/etc/docker/tls/server-key.pem': sha('KEY') },
      },
    });
    expect(steps['docker.daemon']!.plan(installed, ctx({}, { tls }, 'docker.daemon')).changes).toEqual([]);
    const renewed = steps['docker.daemon']!.plan(installed, ctx({}, { tls: { ...tls, cert: 'CERT2' } }, 'docker.daemon'));
    expect(renewed.changes.map((c) => c.summary)).toEqual(['TLS files /etc/docker/tls/server-cert.pem']);
  });
  it('refuses a daemon.json that is not JSON', () => {
    const f = merge(loadFacts('debian12'), { docker: { daemonJson: '{ broken' } });
    expect(() => steps['docker.daemon']!.plan(f, ctx({}, {}, 'docker.daemon'))).toThrow(StepRefusedError);
  });
});

describe('packages', () => {
  it('refuses when the simulation would remove Docker, sshd or sudo', async () => {
    const plan = steps['packages.minimal']!.plan(loadFacts('debian12'), ctx({}, {}, 'packages.minimal'));
    const r = new FakeRemote([[/apt-get -s purge/, { stdout: 'Purg gcc [4:12.2.0-3]\nRemv docker.io:amd64 [20.10.24+dfsg1-1+b3]\n' }]]);
    await expect(plan.changes[0]!.apply(r)).rejects.toThrow(/would also remove: Remv docker.io:amd64/);
    expect(r.indexOf(/apt-get -y purge/)).toBe(-1);
    const ok = new FakeRemote([[/apt-get -s purge/, { stdout: 'Purg gcc [4:12.2.0-3]\n' }]]);
    await plan.changes[0]!.apply(ok);
    expect(ok.commands.at(-1)).toMatch(/^DEBIAN_FRONTEND=noninteractive apt-get -y purge --auto-remove build-essential/);
  });
  it('dnf transaction tables are checked too', async () => {
    const plan = steps['packages.minimal']!.plan(loadFacts('rocky9'), ctx({}, {}, 'packages.minimal'));
    const r = new FakeRemote([[/--assumeno/, { stdout: 'Removing:\n make   x86_64   1:4.3-8.el9   @baseos   1.6 M\nRemoving dependent packages:\n sudo   x86_64   1.9.5p2-10.el9   @baseos   2.5 M\n' }]]);
    await expect(plan.changes[0]!.apply(r)).rejects.toThrow(/sudo/);
  });
  it('security updates: only security origins; "nothing to do" is not a change; no repository fails unless optional', async () => {
    const plan = steps['packages.security-updates']!.plan(loadFacts('debian12'), ctx({}, {}, 'packages.security-updates'));
    const sim = 'Inst libc6 [2.36-9+deb12u4] (2.36-9+deb12u7 Debian-Security:12/stable-security [amd64])\nInst tzdata [2024a-0+deb12u1] (2024b-0+deb12u1 Debian:12.7/stable [all])\n';
    const r = new FakeRemote([[/apt-get -s dist-upgrade/, { stdout: sim }]]);
    const out = await plan.changes[0]!.apply(r);
    expect(out).toMatchObject({ changed: true, message: 'installed 1 security update(s): libc6' });
    expect(r.commands.find((c) => c.includes('--only-upgrade'))).toMatch(/install --only-upgrade libc6$/);
    // the refresh is recorded, so that the next run can trust these lists (cache_valid_time)
    expect(r.commands.indexOf(r.commands.find((c) => c.includes('touch /var/lib/hardfleet/pkg-lists-refreshed'))!)).toBeGreaterThan(r.commands.findIndex((c) => c.includes('--only-upgrade')));
    expect(await plan.changes[0]!.apply(new FakeRemote())).toMatchObject({ changed: false, message: expect.stringMatching(/no security updates pending/) });
    const down = new FakeRemote([[/apt-get update/, { code: 100, stderr: 'E: Failed to fetch http://deb.debian.org' }]]);
    await expect(plan.changes[0]!.apply(down)).rejects.toThrow(/no package repository answered/);
    const optional = steps['packages.security-updates']!.plan(loadFacts('debian12'), ctx({}, { optional: true }, 'packages.security-updates'));
    expect(await optional.changes[0]!.apply(down)).toMatchObject({ changed: false, warnings: [expect.stringMatching(/no package repository/)] });
  });
  it('security updates on dnf: warns when no advisories are published', async () => {
    const plan = steps['packages.security-updates']!.plan(loadFacts('rocky9'), ctx({}, {}, 'packages.security-updates'));
    const r = new FakeRemote([[/check-update --security/, { code: 100 }], [/reboot-required/, { stdout: 'yes\n' }]]);
    const out = await plan.changes[0]!.apply(r);
    expect(out).toMatchObject({ changed: true });
    expect((out as { warnings: string[] }).warnings.join()).toMatch(/no security advisories.*reboot required/);
    expect(r.commands).toContain('dnf -y update --security');
  });
});

describe('services.minimal', () => {
  it('stops sockets before their services and verifies', async () => {
    const plan = steps['services.minimal']!.plan(loadFacts('debian12'), ctx({}, {}, 'services.minimal'));
    const r = new FakeRemote();
    await plan.changes[0]!.apply(r);
    expect(r.commands[0]).toBe('systemctl stop rpcbind.socket rpcbind.service && systemctl disable rpcbind.socket rpcbind.service');
    await expect(plan.changes[0]!.verify!(new FakeRemote([[/is-active/, { code: 0, stdout: 'inactive\nactive\n' }]]))).rejects.toThrow(/rpcbind.service/);
  });
});
