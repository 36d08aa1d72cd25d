import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { factsScript, gatherFacts, parseFacts } from '../../src/facts/gather.js';
import {
  parseDockerdFlags, parseIptablesSave, parseOpensshVersion, parseSha256sums, parseOsRelease, parsePidCgroups, parseSections, parseSs, parseSshdT,
} from '../../src/facts/parsers.js';
import type { Remote } from '../../src/core/remote.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/facts/${name}.txt`, import.meta.url), 'utf8');
export const loadFacts = (name: string) => parseFacts(fixture(name));

describe('facts parsers', () => {
  it('splits sections and keeps file bodies exact', () => {
    const s = parseSections('junk\n\n@@HF:a@@\nx\n\n@@HF:file /etc/x y@@\nl1\n\nl2\n\n@@HF:end@@\n');
    expect(s.map((x) => [x.name, x.arg, x.body])).toEqual([
      ['a', '', 'x\n'], ['file', '/etc/x y', 'l1\n\nl2\n'], ['end', '', ''],
    ]);
  });
  it('keeps every word of dockerd\'s command lines, repeated flags included (-H fd:// -H tcp://…)', () => {
    const exec = '{ path=/usr/sbin/dockerd ; argv[]=/usr/sbin/dockerd -H fd:// -H tcp://0.0.0.0:2376 --containerd=/run/containerd/containerd.sock ; ignore_errors=no ; pid=183 }';
    const same = '/usr/sbin/dockerd -H fd:// -H tcp://0.0.0.0:2376 --containerd=/run/containerd/containerd.sock \n';
    expect(parseDockerdFlags(exec, same)).toEqual(['-H', 'fd://', '-H', 'tcp://0.0.0.0:2376', '--containerd=/run/containerd/containerd.sock']);
    // a unit changed since dockerd started: both command lines count
    expect(parseDockerdFlags(exec, '/usr/sbin/dockerd -H fd://\n')).toEqual(['-H', 'fd://', '-H', 'tcp://0.0.0.0:2376', '--containerd=/run/containerd/containerd.sock', '-H', 'fd://']);
  });
  it('reads sha256sum output', () => {
    expect(parseSha256sums(`${'a'.repeat(64)}  /etc/docker/tls/ca.pem\n${'b'.repeat(64)} */x y\nsha256sum: /nope: No such file\n`)).toEqual({ '/etc/docker/tls/ca.pem': 'a'.repeat(64), '/x y': 'b'.repeat(64) });
  });
  it('parses os-release with quotes', () => {
    expect(parseOsRelease('ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\nPRETTY_NAME="Rocky Linux 9.4"\n'))
      .toEqual({ id: 'rocky', idLike: ['rhel', 'centos', 'fedora'], versionId: '9.4', prettyName: 'Rocky Linux 9.4' });
  });
  it('parses OpenSSH versions from sshd -V / usage output', () => {
    expect(parseOpensshVersion('unknown option -- V\nOpenSSH_8.9p1 Ubuntu-3ubuntu0.6, OpenSSL 3.0.2'))
      .toEqual({ version: 'OpenSSH_8.9p1', major: 8, minor: 9 });
    expect(parseOpensshVersion('nothing')).toBeNull();
  });
  it('keeps every value of multi-valued sshd -T keys', () => {
    const t = parseSshdT('Port 22\nport 2222\nhostkey /a\nhostkey /b\npermitrootlogin no\n');
    expect(t).toEqual({ port: ['22', '2222'], hostkey: ['/a', '/b'], permitrootlogin: ['no'] });
  });
  it('parses ss lines with v4, v6, wildcard and %iface addresses', () => {
    const units = parsePidCgroups('701 0::/system.slice/ssh.service\n5 1:name=systemd:/system.slice/foo.service\n5 2:cpu:/x\n');
    expect(units.get(701)).toBe('ssh.service');
    expect(units.get(5)).toBe('foo.service');
    const ss = parseSs([
      'tcp   LISTEN 0      128          0.0.0.0:22         0.0.0.0:*    users:(("sshd",pid=701,fd=3))',
      'tcp   LISTEN 0      128             [::]:22            [::]:*    users:(("sshd",pid=701,fd=4))',
      'udp   UNCONN 0      0      127.0.0.53%lo:53        0.0.0.0:*    users:(("systemd-resolve",pid=620,fd=14))',
      'tcp   LISTEN 0      4096               *:9090             *:*    users:(("systemd",pid=1,fd=60))',
    ].join('\n'), units);
    expect(ss.map((s) => [s.proto, s.address, s.port, s.processes.map((p) => p.name).join(), s.units.join()])).toEqual([
      ['tcp', '0.0.0.0', 22, 'sshd', 'ssh.service'],
      ['tcp', '::', 22, 'sshd', 'ssh.service'],
      ['udp', '127.0.0.53', 53, 'systemd-resolve', ''],
      ['tcp', '*', 9090, 'systemd', ''],
    ]);
  });
  it('parses iptables-save into chains, policies and ordered rules', () => {
    const t = parseIptablesSave('# x\n*filter\n:INPUT DROP [1:2]\n:DOCKER-USER - [0:0]\n-A INPUT -i lo -j ACCEPT\n-A DOCKER-USER -j RETURN\nCOMMIT\n');
    expect(t).toEqual({ chains: { INPUT: { policy: 'DROP', rules: ['-A INPUT -i lo -j ACCEPT'] }, 'DOCKER-USER': { policy: null, rules: ['-A DOCKER-USER -j RETURN'] } } });
    expect(parseIptablesSave('')).toBeNull();
  });
});

describe('parseFacts per distro fixture', () => {
  it('Debian 12', () => {
    const f = loadFacts('debian12');
    expect(f.os).toMatchObject({ id: 'debian', versionId: '12' });
    expect(f.pkgManager).toBe('apt');
    expect(f.init).toBe('systemd');
    expect(f.openssh).toMatchObject({ major: 9, minor: 2 });
    expect(f.sshdEffective.permitrootlogin).toEqual(['yes']);
    expect(f.sshdEffective.hostkey).toHaveLength(3);
    expect(f.sshdEffective.listenaddress).toEqual(['[::]:22', '0.0.0.0:22']);
    expect(Object.keys(f.sshdFiles)).toEqual(['/etc/ssh/sshd_config', '/etc/ssh/sshd_config.d/50-cloud-init.conf']);
    expect(f.sshdFiles['/etc/ssh/sshd_config.d/50-cloud-init.conf']).toBe('PasswordAuthentication yes\n');
    expect(f.sshUnits).toMatchObject({ serviceName: 'ssh', socketActivated: false });
    expect(f.selinux).toBeNull();
    expect(f.firewall).toMatchObject({ iptablesVariant: 'nft', ip6tables: true, persistence: 'netfilter-persistent', ufwActive: false, firewalldActive: false });
    expect(f.firewall.filter.v4!.chains['DOCKER-USER']!.rules).toEqual(['-A DOCKER-USER -j RETURN']);
    expect(f.firewall.filter.v4!.chains.INPUT!.policy).toBe('ACCEPT');
    expect(f.firewall.persisted.v4).toContain('*filter');
    expect(f.defaultInterfaces).toEqual(['eth0']);
    expect(f.docker).toMatchObject({ installed: true, version: '24.0.7', active: true });
    expect(f.docker.flags).toEqual(['-H', 'fd://', '--containerd=/run/containerd/containerd.sock']);
    expect(JSON.parse(f.docker.daemonJson!)).toEqual({ 'log-driver': 'json-file', 'log-opts': { 'max-size': '10m' } });
    const telnet = f.listening.find((l) => l.port === 23)!;
    expect(telnet).toMatchObject({ proto: 'tcp', address: '0.0.0.0', units: ['inetutils-inetd.service'] });
    expect(f.listening.find((l) => l.port === 68)!.address).toBe('10.0.0.11');
    expect(f.systemdSockets.filter((s) => s.unit === 'rpcbind.socket')).toHaveLength(5);
    expect(f.users.find((u) => u.name === 'ops')).toMatchObject({ uid: 1000, home: '/home/ops', shell: '/bin/bash' });
    expect(f.admin).toMatchObject({
      name: 'ops', exists: true, home: '/home/ops',
      homeStat: { mode: 0o777, owner: 'ops' }, sshDirStat: { mode: 0o755 }, authorizedKeysStat: { mode: 0o644 }, sudoers: null,
    });
    expect(f.packages).toContain('linux-headers-6.1.0-21-amd64');
    expect(f.securityUpdates).toBe(3);
    expect(f.pkgListsAgeSec).toBeNull();
    expect(f.rebootRequired).toBe(false);
    expect(f.tools).toMatchObject({ sudo: true, visudo: true, systemdRun: true, semanage: false });
  });
  it('Ubuntu 24.04 with ssh.socket', () => {
    const f = loadFacts('ubuntu2404');
    expect(f.os).toMatchObject({ id: 'ubuntu', idLike: ['debian'], versionId: '24.04' });
    expect(f.sshUnits).toMatchObject({ serviceName: 'ssh', socketActivated: true });
    expect(f.sshUnits.units['ssh.socket']).toEqual({ active: 'active', enabled: 'enabled' });
    expect(f.sshdEffective.permitrootlogin).toEqual(['without-password']);
    expect(f.firewall.persistence).toBeNull();
    expect(f.docker.installed).toBe(false);
    expect(f.docker.daemonJson).toBeNull();
    expect(f.listening.find((l) => l.port === 22)).toMatchObject({ address: '*', processes: [{ name: 'systemd', pid: 1 }] });
    expect(f.defaultInterfaces).toEqual(['ens3']);
    expect(f.rebootRequired).toBe(true);
    expect(f.pkgListsAgeSec).toBe(1834);
    expect(f.admin!.sudoers).toBe('ubuntu ALL=(ALL) NOPASSWD: ALL\n');
  });
  it('Rocky 9: SELinux enforcing, dnf, sshd service, firewalld', () => {
    const f = loadFacts('rocky9');
    expect(f.os).toMatchObject({ id: 'rocky', idLike: ['rhel', 'centos', 'fedora'], versionId: '9.4' });
    expect(f.pkgManager).toBe('dnf');
    expect(f.selinux).toBe('enforcing');
    expect(f.selinuxSshPorts).toEqual([22]);
    expect(f.sshUnits.serviceName).toBe('sshd');
    expect(f.firewall.firewalldActive).toBe(true);
    expect(f.openssh).toMatchObject({ major: 8, minor: 7 });
    expect(f.securityUpdates).toBeNull();
  });
  it('Alma 8: yum/dnf, legacy iptables, iptables-services, cgroup v1, admin user missing', () => {
    const f = loadFacts('alma8');
    expect(f.pkgManager).toBe('dnf');
    expect(f.selinux).toBe('permissive');
    expect(f.firewall).toMatchObject({ iptablesVariant: 'legacy', persistence: 'iptables-services', nft: false });
    expect(f.firewall.persisted.v4).toContain('icmp-host-prohibited');
    expect(f.docker).toMatchObject({ version: '20.10.24', active: true });
    expect(f.docker.flags).toContain('--live-restore');
    expect(f.listening[0]!.units).toEqual(['sshd.service']);
    expect(f.listening[1]!.processes).toEqual([]);
    expect(f.admin).toMatchObject({ name: 'ops', exists: false, home: null, authorizedKeys: null });
  });
});

describe('factsScript / gatherFacts', () => {
  it('quotes the admin user and runs as one sudo command', async () => {
    const script = factsScript({ adminUser: "o'ps" });
    expect(script).toContain(`u='o'\\''ps'`);
    const calls: Array<{ cmd: string; sudo?: boolean }> = [];
    const remote: Remote = {
      name: 'h',
      async exec(cmd, o) {
        calls.push({ cmd, sudo: o?.sudo });
        return { host: 'h', command: cmd, code: 0, signal: null, stdout: fixture('rocky9'), stderr: '', ms: 1 };
      },
      async writeFile() { throw new Error('no'); },
    };
    const f = await gatherFacts(remote, { adminUser: 'rocky' });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.sudo).toBe(true);
    expect(f.os.id).toBe('rocky');
  });
  it('is valid POSIX sh', async () => {
    const { execFileSync } = await import('node:child_process');
    expect(() => execFileSync('sh', ['-n'], { input: factsScript({ adminUser: 'ops' }) })).not.toThrow();
  });
});
