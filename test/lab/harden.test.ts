/**
 * The hardening playbook on real lab hosts (issue 4). Every outcome is read out-of-band: through
 * the lab console (nsenter into the host) or the plain OpenSSH client, never through hardfleet.
 */
import { execSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, hardfleet, labFile, onHost, skipLab, ssh, type Out } from './support.js';

const PLAYBOOK = 'playbooks/docker-host.yml';
const SSHD_T = (user: string) => `sshd -T -C user=${user},host=x,addr=198.18.0.1`;
/** How many of these commands the host has (dash's `command -v` answers for the first name only). */
const HAVE = (...cmds: string[]) => `for c in ${cmds.join(' ')}; do command -v $c; done | wc -l`;

interface LabHost { name: string; ipv4: string; ipv6: string }
interface Report {
  summary: Record<string, number>;
  batches: string[][];
  hosts: Record<string, { status: string; error?: string; steps: Array<{ id: string; status: string; message: string; warnings?: string[] }> }>;
  stopped?: { reason: string };
}

/** A CA, a server certificate for `ip` and a client certificate, made with openssl. */
function makePki(ip: string): { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string } {
  const d = mkdtempSync(join(tmpdir(), 'hf-pki-'));
  const o = (args: string) => execSync(`openssl ${args}`, { cwd: d, stdio: 'pipe' });
  o('req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=hardfleet-test-ca');
  o(`req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=${ip}`);
  writeFileSync(join(d, 'server.ext'), `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth\n`);
  o('x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext');
  o('req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=client');
  writeFileSync(join(d, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  o('x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 -extfile client.ext');
  const r = (f: string) => readFileSync(join(d, f), 'utf8');
  return { ca: r('ca.pem'), serverCert: r('server.pem'), serverKey: r('server.key'), clientCert: r('client.pem'), clientKey: r('client.key') };
}

/** GET /version of a Docker API over TLS, with or without a client certificate. */
function dockerApi(ip: string, tls: { ca: string; cert?: string; key?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: ip, port: 2376, path: '/version', ...tls, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

function labHosts(lab: string): LabHost[] {
  return (JSON.parse(readFileSync(labFile(lab, 'state.json'), 'utf8')) as { hosts: LabHost[] }).hosts;
}

function labUp(lab: string, hosts: number): string {
  const inv = `/tmp/hardfleet-test-${lab}.yml`;
  const r = hardfleet(['lab', 'up', '--name', lab, '--hosts', String(hosts), '--fresh', '--inventory', inv]);
  expect(r.code, r.stderr).toBe(0);
  return inv;
}

/** `hardfleet apply …` with a JSON report read back from a file. */
function apply(args: string[]): Out & { report: Report } {
  const json = `/tmp/hardfleet-test-report-${process.pid}.json`;
  const r = hardfleet(['apply', ...args, '--json', json]);
  let report: Report;
  try {
    report = JSON.parse(readFileSync(json, 'utf8')) as Report;
  } catch {
    throw new Error(`no JSON report (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { ...r, report };
}

function inside(lab: string, host: string, command: string): string {
  const r = onHost(lab, host, command);
  expect(r.code, `${host}: ${command}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

function effective(lab: string, host: string, user: string): Record<string, string> {
  return Object.fromEntries(inside(lab, host, SSHD_T(user)).trim().split('\n').map((l) => [l.split(' ')[0], l.slice(l.indexOf(' ') + 1)]));
}

/** Out-of-band: is this host still as the lab booted it? */
function untouched(lab: string, host: string): void {
  expect(effective(lab, host, 'root').permitrootlogin, host).toBe('yes');
  expect(inside(lab, host, 'test -e /etc/docker/daemon.json && echo yes || echo no').trim(), host).toBe('no');
  expect(inside(lab, host, HAVE('gcc', 'make')).trim(), host).toBe('2');
  expect(inside(lab, host, 'iptables -S INPUT | head -1').trim(), host).toBe('-P INPUT ACCEPT');
  expect(inside(lab, host, 'id hfadmin >/dev/null 2>&1 && echo yes || echo no').trim(), host).toBe('no');
}

/** Out-of-band: everything the playbook promises, on one host. */
function hardened(lab: string, h: LabHost): void {
  const root = effective(lab, h.name, 'root');
  const admin = effective(lab, h.name, 'hfadmin');
  for (const eff of [root, admin]) {
    expect(eff.permitrootlogin, h.name).toBe('no');
    expect(eff.passwordauthentication, h.name).toBe('no');
    expect(eff.kbdinteractiveauthentication, h.name).toBe('no');
    expect(eff.pubkeyauthentication, h.name).toBe('yes');
  }
  // root is refused by the real sshd; the admin gets in by key, over IPv4 and IPv6, and sudo works
  const rootLogin = ssh(lab, h.ipv4, 'true');
  expect(rootLogin.code, h.name).not.toBe(0);
  expect(rootLogin.stderr).toMatch(/Permission denied/);
  for (const addr of [h.ipv4, h.ipv6]) {
    const adm = ssh(lab, addr, 'sudo -n true && echo sudo-ok', { user: 'hfadmin', key: labFile(lab, 'admin_ed25519') });
    expect(adm.code, `${h.name} ${addr}: ${adm.stderr}`).toBe(0);
    expect(adm.stdout.trim()).toBe('sudo-ok');
  }
  expect(inside(lab, h.name, "stat -c '%a %U' /home/hfadmin/.ssh /home/hfadmin/.ssh/authorized_keys")).toBe('700 hfadmin\n600 hfadmin\n');
  expect(inside(lab, h.name, 'visudo -cf /etc/sudoers.d/90-hardfleet-hfadmin >/dev/null && echo valid').trim()).toBe('valid');
  // development tools are gone, the admin's sudo and the services are not
  expect(inside(lab, h.name, HAVE('gcc', 'cc', 'make')).trim()).toBe('0');
  expect(inside(lab, h.name, HAVE('sudo', 'sshd', 'dockerd')).trim()).toBe('3');
  // only sshd, and Docker's own, listen beyond loopback
  const listeners = inside(lab, h.name, 'ss -Hltnup').trim().split('\n');
  const outside = listeners.filter((l) => !/ (127\.0\.0\.1|\[::1\]):\d+ /.test(l));
  expect(outside.length, listeners.join('\n')).toBeGreaterThan(0);
  for (const l of outside) expect(l, h.name).toMatch(/users:\(\("(sshd|dockerd|docker-proxy|containerd)"/);
  // Docker: the daemon.json the playbook asks for, a daemon that took it
  const dj = JSON.parse(inside(lab, h.name, 'cat /etc/docker/daemon.json'));
  expect(dj.icc).toBe(false);
  expect(dj['default-ulimits'].nproc).toMatchObject({ Soft: 1024, Hard: 2048 });
  expect(dj['default-ulimits'].nofile).toMatchObject({ Soft: 1020, Hard: 2048 });
  expect(inside(lab, h.name, 'systemctl is-active docker').trim()).toBe('active');
  expect(inside(lab, h.name, "docker network inspect bridge --format '{{index .Options \"com.docker.network.bridge.enable_icc\"}}'").trim()).toBe('false');
  firewallHardened(lab, h.name);
  // only the security update was installed; the regular update waits
  expect(inside(lab, h.name, "dpkg-query -W -f '${Package} ${Version}\\n' hardfleet-lab-secfix hardfleet-lab-feature"))
    .toBe('hardfleet-lab-feature 1.0-1\nhardfleet-lab-secfix 1.0-1+deb12u1\n');
}

function firewallHardened(lab: string, host: string): void {
  for (const cmd of ['iptables', 'ip6tables']) {
    const rules = inside(lab, host, `${cmd} -S`);
    expect(rules, `${host} ${cmd}`).toMatch(/^-P INPUT DROP$/m);
    expect(rules, `${host} ${cmd}`).toMatch(/^-P FORWARD DROP$/m);
    expect(rules, `${host} ${cmd}`).toMatch(/^-A INPUT -j HARDFLEET-INPUT$/m);
    expect(rules, `${host} ${cmd}`).toMatch(/^-A HARDFLEET-INPUT -p tcp -m tcp --dport 22 -j ACCEPT$/m);
    expect(rules, `${host} ${cmd}`).toMatch(/^-A HARDFLEET-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT$/m);
  }
  // IPv6 neighbour discovery still works: solicitations and advertisements are accepted
  expect(inside(lab, host, 'ip6tables -S HARDFLEET-INPUT')).toMatch(/--icmpv6-type 135 -j ACCEPT[\s\S]*--icmpv6-type 136 -j ACCEPT/);
}

describe.skipIf(skipLab)('hardening a fleet of 6 full hosts', () => {
  const LAB = 'hl';
  let INV = '';
  let hosts: LabHost[] = [];
  const byName = (n: string) => hosts.find((h) => h.name === n)!;

  beforeAll(() => {
    INV = labUp(LAB, 6);
    hosts = labHosts(LAB);
  });
  afterAll(() => {
    hardfleet(['lab', 'down', '--name', LAB]);
  });

  it('plan shows the changes with diffs and changes nothing', () => {
    const r = hardfleet(['plan', PLAYBOOK, '-i', INV, '--limit', 'web2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('+++ /etc/docker/daemon.json');
    expect(r.stdout).toContain('+PermitRootLogin no');
    expect(r.stdout).toMatch(/check mode: nothing was changed/);
    untouched(LAB, 'web2');
  });

  it('--tag canary hardens the canary and touches no other host', () => {
    const r = apply([PLAYBOOK, '-i', INV, '--tag', 'canary']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(Object.keys(r.report.hosts)).toEqual(['web1']);
    expect(r.report.hosts.web1.status).toBe('changed');
    hardened(LAB, byName('web1'));
    for (const h of hosts.filter((x) => x.name !== 'web1')) untouched(LAB, h.name);
  });

  it('--limit picks one host by name and touches no other', () => {
    const r = apply([PLAYBOOK, '-i', INV, '--limit', 'db3']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(Object.keys(r.report.hosts)).toEqual(['db3']);
    hardened(LAB, byName('db3'));
    for (const n of ['web2', 'web3', 'db1', 'db2']) untouched(LAB, n);
  });

  it('rolls out in batches 1, 2, 3 with serial [1, 2, "100%"], hardening every host (case sshd-dropin-wins)', () => {
    // the cloud-init drop-in that turns passwords back on is still there: the effective config is what counts
    expect(inside(LAB, 'web2', 'cat /etc/ssh/sshd_config.d/50-cloud-init.conf')).toMatch(/PasswordAuthentication yes/);
    const r = apply([PLAYBOOK, '-i', INV, '--serial', '1,2,100%']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.report.batches.map((b) => b.length)).toEqual([1, 2, 3]);
    expect(r.report.batches.flat().sort()).toEqual(hosts.map((h) => h.name).sort());
    expect(r.stdout).toMatch(/batch 1\/3[\s\S]*batch 2\/3[\s\S]*batch 3\/3/);
    // web1 and db3 were hardened already: ok; the other four changed
    expect(r.report.summary).toMatchObject({ ok: 2, changed: 4, failed: 0, unreachable: 0, notStarted: 0 });
    for (const h of hosts) hardened(LAB, h);
  });

  it('a second apply changes nothing and says so', () => {
    const r = apply([PLAYBOOK, '-i', INV]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.report.summary).toMatchObject({ ok: 6, changed: 0, failed: 0 });
    for (const h of Object.values(r.report.hosts)) for (const s of h.steps) expect(['ok', 'n/a'], `${s.id}: ${s.message}`).toContain(s.status);
    expect(r.stdout).toMatch(/hosts: 6 ok, 0 changed, 0 failed, 0 unreachable, 0 not started/);
    const plan = hardfleet(['plan', PLAYBOOK, '-i', INV]);
    expect(plan.stdout).toMatch(/hosts: 6 ok, 0 changed/);
  });

  it("case docker-owns-forward: Docker's chains survive and rebuild, containers are filtered in DOCKER-USER", () => {
    const chains = (h: string) => inside(LAB, h, 'iptables -S').split('\n').filter((l) => /DOCKER/.test(l) && !/HARDFLEET/.test(l)).sort();
    const before = chains('web2');
    expect(before).toContain('-N DOCKER-ISOLATION-STAGE-1');
    expect(before).toContain('-A FORWARD -j DOCKER-USER');
    expect(inside(LAB, 'web2', 'iptables -S DOCKER-USER')).toMatch(/^-A DOCKER-USER -j HARDFLEET-DOCKER$/m);
    expect(inside(LAB, 'web2', 'iptables -S HARDFLEET-DOCKER')).toMatch(/-i eth0 -j DROP/);
    inside(LAB, 'web2', 'systemctl restart docker');
    expect(inside(LAB, 'web2', 'systemctl is-active docker').trim()).toBe('active');
    expect(chains('web2')).toEqual(before);
    firewallHardened(LAB, 'web2');
    expect(inside(LAB, 'web2', 'iptables -S DOCKER-USER')).toMatch(/^-A DOCKER-USER -j HARDFLEET-DOCKER$/m);
  });

  it('the firewall comes back after a reboot, and a run after it changes nothing', () => {
    const r = hardfleet(['lab', 'reboot', '--name', LAB, 'web2']);
    expect(r.code, r.stderr).toBe(0);
    inside(LAB, 'web2', 'systemctl is-system-running --wait || true');
    firewallHardened(LAB, 'web2');
    expect(inside(LAB, 'web2', 'systemctl is-active docker').trim()).toBe('active');
    hardened(LAB, byName('web2'));
    const again = apply([PLAYBOOK, '-i', INV, '--limit', 'web2']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.report.hosts.web2.status).toBe('ok');
  });
});

describe.skipIf(skipLab)('real-world cases and lockouts on fresh hosts', () => {
  const LAB = 'hlc';
  let INV = '';
  let hosts: LabHost[] = [];
  const byName = (n: string) => hosts.find((h) => h.name === n)!;

  beforeAll(() => {
    INV = labUp(LAB, 5);
    hosts = labHosts(LAB);
  });
  afterAll(() => {
    hardfleet(['lab', 'down', '--name', LAB]);
  });

  it('case sshd-match-block-at-end: the Match block is kept, reported, and scopes nothing of ours', () => {
    inside(LAB, 'web1', [
      "cat > /etc/ssh/sshd_config <<'EOF'",
      'Include /etc/ssh/sshd_config.d/*.conf',
      'PermitRootLogin yes',
      'PasswordAuthentication yes',
      'Subsystem sftp /usr/lib/openssh/sftp-server',
      'Match User backup',
      '    ForceCommand internal-sftp',
      '    PasswordAuthentication yes',
      'EOF',
      'sshd -t && systemctl reload ssh',
    ].join('\n'));
    const r = apply([PLAYBOOK, '-i', INV, '--limit', 'web1', '--tags', 'ssh']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(onHost(LAB, 'web1', 'sshd -t').code).toBe(0);
    expect(effective(LAB, 'web1', 'root').permitrootlogin).toBe('no');
    expect(effective(LAB, 'web1', 'hfadmin').passwordauthentication).toBe('no');
    expect(effective(LAB, 'web1', 'backup').forcecommand).toBe('internal-sftp');
    expect(inside(LAB, 'web1', 'cat /etc/ssh/sshd_config')).toMatch(/Match User backup\n {4}ForceCommand internal-sftp\n {4}PasswordAuthentication yes\n$/);
    const sshd = r.report.hosts.web1.steps.find((s) => s.id === 'sshd')!;
    expect(sshd.warnings?.join('\n')).toContain('"Match User backup" still allows password login');
    expect(r.stdout).toContain('"Match User backup" still allows password login');
    // --tags ssh ran the ssh steps only
    expect(inside(LAB, 'web1', HAVE('gcc', 'make')).trim()).toBe('2');
  });

  it('case docker-removed-option: the rejected key is dropped and said, the operator\'s keys kept, Docker up', () => {
    inside(LAB, 'web2', `printf '%s' '{"disable-legacy-registry": true, "log-driver": "json-file", "log-opts": {"max-size": "10m"}}' > /etc/docker/daemon.json`);
    const r = apply([PLAYBOOK, '-i', INV, '--limit', 'web2', '--tags', 'docker']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const dj = JSON.parse(inside(LAB, 'web2', 'cat /etc/docker/daemon.json'));
    expect(dj['disable-legacy-registry']).toBeUndefined();
    expect(dj['log-driver']).toBe('json-file');
    expect(dj['log-opts']).toEqual({ 'max-size': '10m' });
    expect(dj.icc).toBe(false);
    expect(dj['default-ulimits'].nofile).toMatchObject({ Soft: 1020, Hard: 2048 });
    const step = r.report.hosts.web2.steps.find((s) => s.id === 'docker.daemon')!;
    expect([step.message, ...(step.warnings ?? [])].join('\n')).toMatch(/disable-legacy-registry/);
    expect(inside(LAB, 'web2', 'systemctl is-active docker').trim()).toBe('active');
    expect(inside(LAB, 'web2', "docker network inspect bridge --format '{{index .Options \"com.docker.network.bridge.enable_icc\"}}'").trim()).toBe('false');
  });

  it('case admin-key-missing: a world-writable home is repaired and the login proven before root login goes', () => {
    const pub = readFileSync(labFile(LAB, 'admin_ed25519.pub'), 'utf8').trim();
    inside(LAB, 'db1', `useradd -m -s /bin/bash ops && chmod 0777 /home/ops && mkdir -p /home/ops/.ssh && printf '%s\\n' '${pub}' > /home/ops/.ssh/authorized_keys && chmod 0777 /home/ops/.ssh && chown -R ops: /home/ops/.ssh`);
    // sshd's StrictModes refuses that key today: this is the lockout the tool must not walk into
    expect(ssh(LAB, byName('db1').ipv4, 'true', { user: 'ops', key: labFile(LAB, 'admin_ed25519') }).code).not.toBe(0);
    const inv = yaml.load(readFileSync(INV, 'utf8')) as { all: { children: Record<string, { hosts: Record<string, Record<string, unknown>> }> } };
    inv.all.children.db.hosts.db1.admin_user = 'ops';
    const opsInv = `/tmp/hardfleet-test-${LAB}-ops.yml`;
    writeFileSync(opsInv, yaml.dump(inv));
    const r = apply([PLAYBOOK, '-i', opsInv, '--limit', 'db1', '--tags', 'ssh']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(inside(LAB, 'db1', "stat -c '%a' /home/ops /home/ops/.ssh /home/ops/.ssh/authorized_keys").trim().split('\n').map((m) => parseInt(m, 8) & 0o022)).toEqual([0, 0, 0]);
    expect(inside(LAB, 'db1', "stat -c '%a %U' /home/ops/.ssh /home/ops/.ssh/authorized_keys")).toBe('700 ops\n600 ops\n');
    const ops = ssh(LAB, byName('db1').ipv4, 'sudo -n true && echo ok', { user: 'ops', key: labFile(LAB, 'admin_ed25519') });
    expect(ops.code, ops.stderr).toBe(0);
    expect(effective(LAB, 'db1', 'root').permitrootlogin).toBe('no');
  });

  it('Docker API on the network: refused without TLS, then served only to clients of the CA', async () => {
    const h = byName('web3');
    inside(LAB, 'web3', [
      'mkdir -p /etc/systemd/system/docker.service.d',
      "printf '[Service]\\nExecStart=\\nExecStart=/usr/sbin/dockerd -H fd:// -H tcp://0.0.0.0:2376 --containerd=/run/containerd/containerd.sock\\n' > /etc/systemd/system/docker.service.d/tcp.conf",
      'systemctl daemon-reload && systemctl restart docker',
    ].join('\n'));
    const refused = apply([PLAYBOOK, '-i', INV, '--limit', 'web3', '--tags', 'docker']);
    expect(refused.code).toBe(3);
    expect(refused.report.hosts.web3.error).toMatch(/tcp:\/\/0.0.0.0:2376 without tlsverify/);
    expect(inside(LAB, 'web3', 'test -e /etc/docker/daemon.json && echo yes || echo no').trim()).toBe('no');

    const pki = makePki(h.ipv4);
    const inv = yaml.load(readFileSync(INV, 'utf8')) as { all: { children: Record<string, { hosts: Record<string, Record<string, unknown>> }> } };
    inv.all.children.web.hosts.web3.docker_tls = { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey };
    const tlsInv = `/tmp/hardfleet-test-${LAB}-tls.yml`;
    writeFileSync(tlsInv, yaml.dump(inv));
    const r = apply([PLAYBOOK, '-i', tlsInv, '--limit', 'web3', '--tags', 'docker']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).not.toContain('PRIVATE KEY');
    const dj = JSON.parse(inside(LAB, 'web3', 'cat /etc/docker/daemon.json'));
    expect(dj).toMatchObject({ tlsverify: true, tlscacert: '/etc/docker/tls/ca.pem', tlskey: '/etc/docker/tls/server-key.pem', icc: false });
    expect(inside(LAB, 'web3', "stat -c '%a %U' /etc/docker/tls/ca.pem /etc/docker/tls/server-cert.pem /etc/docker/tls/server-key.pem")).toBe('444 root\n444 root\n400 root\n');
    expect(inside(LAB, 'web3', 'systemctl is-active docker').trim()).toBe('active');
    // a client of the CA gets the API; anyone else is turned away in the handshake
    const withCert = await dockerApi(h.ipv4, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
    expect(withCert).toMatch(/"ApiVersion"/);
    await expect(dockerApi(h.ipv4, { ca: pki.ca })).rejects.toThrow();
    const again = apply([PLAYBOOK, '-i', tlsInv, '--limit', 'web3', '--tags', 'docker']);
    expect(again.report.hosts.web3.status).toBe('ok');
  });

  it('a firewall that would cut SSH rolls back on the canary, which stops the rollout before the next batch', () => {
    const before = inside(LAB, 'db2', 'iptables -S; ip6tables -S');
    const r = apply(['test/fixtures/playbooks/lockout-firewall.yml', '-i', INV, '--limit', 'web2,db2']);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.report.batches).toEqual([['web2'], ['db2']]);
    expect(r.report.hosts.web2.status).toBe('rolled-back');
    expect(r.report.hosts.web2.steps.find((s) => s.id === 'firewall')!.status).toBe('rolled-back');
    expect(r.report.hosts.db2.status).toBe('not-started');
    expect(r.report.stopped?.reason).toBe('budget');
    expect(r.stdout).toMatch(/rolled back/);
    // the canary restored itself and is reachable again, the second batch was never touched
    expect(inside(LAB, 'web2', 'iptables -S INPUT | head -1').trim()).toBe('-P INPUT ACCEPT');
    expect(inside(LAB, 'web2', 'test -e /etc/iptables/rules.v4 && echo yes || echo no').trim()).toBe('no');
    expect(ssh(LAB, byName('web2').ipv4, 'true').code).toBe(0);
    expect(inside(LAB, 'db2', 'iptables -S; ip6tables -S')).toBe(before);
  });

  it('a controller killed (SIGKILL) in the middle of a guarded change leaves a host that rolls itself back', async () => {
    const before = inside(LAB, 'db2', 'iptables -S; ip6tables -S');
    const child = spawn(process.execPath, [CLI, 'apply', 'test/fixtures/playbooks/lockout-firewall.yml', '-i', INV, '--limit', 'db2'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    // kill it once the new rules are in and the proof is under way
    for (let i = 0; i < 600 && !/proving a fresh admin login after the change/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
    expect(out).toMatch(/proving a fresh admin login after the change/);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // the change is live: SSH is cut
    expect(inside(LAB, 'db2', 'iptables -S INPUT | head -1').trim()).toBe('-P INPUT DROP');
    expect(ssh(LAB, byName('db2').ipv4, 'true').code).not.toBe(0);
    // within the window (20 s) the host restores itself, with no controller around
    let restored = false;
    for (let i = 0; i < 60 && !restored; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      restored = onHost(LAB, 'db2', 'iptables -S; ip6tables -S').stdout === before;
    }
    expect(restored).toBe(true);
    expect(ssh(LAB, byName('db2').ipv4, 'true').code).toBe(0);
    expect(inside(LAB, 'db2', 'cat /var/lib/hardfleet/guard/*/rollback.log')).toMatch(/rollback done/);
    expect(inside(LAB, 'db2', 'systemctl list-timers --all --no-legend | grep -c hardfleet-rollback || true').trim()).toBe('0');
  });
});

describe.skipIf(skipLab)('moving sshd to another port', () => {
  const LAB = 'hlp';
  let INV = '';
  let host: LabHost;
  const sshOn = (port: number, user = 'hfadmin') => spawnSync('ssh', [
    '-p', String(port), '-i', labFile(LAB, user === 'root' ? 'id_ed25519' : 'admin_ed25519'),
    // the lab's known_hosts names the address for port 22; the same host key must answer on the new port
    '-o', `UserKnownHostsFile=${labFile(LAB, 'known_hosts')}`, '-o', `HostKeyAlias=${host.ipv4}`, '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=3', '-o', 'IdentitiesOnly=yes', `${user}@${host.ipv4}`, 'sudo -n true && echo in',
  ], { encoding: 'utf8', timeout: 20_000 });

  beforeAll(() => {
    INV = labUp(LAB, 1);
    [host] = labHosts(LAB);
  });
  afterAll(() => {
    hardfleet(['lab', 'down', '--name', LAB]);
  });

  it('moves sshd to 2222, closes 22 only after a login on 2222 is proven, and finds it there next time', () => {
    const r = apply([PLAYBOOK, '-i', INV, '-e', 'sshd_port=2222']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/sshd listens on 22 and 2222[\s\S]*proving a fresh admin login[\s\S]*sshd listens on 2222 only; port 22 closed/);
    expect(effective(LAB, host.name, 'hfadmin').port).toBe('2222');
    const listening = inside(LAB, host.name, 'ss -Hltn');
    expect(listening).toMatch(/:2222 /);
    expect(listening).not.toMatch(/:22 /);
    for (const cmd of ['iptables', 'ip6tables']) {
      const rules = inside(LAB, host.name, `${cmd} -S HARDFLEET-INPUT`);
      expect(rules, cmd).toMatch(/--dport 2222 -j ACCEPT/);
      expect(rules, cmd).not.toMatch(/--dport 22 -j ACCEPT/);
    }
    expect(sshOn(2222).stdout.trim()).toBe('in');
    expect(sshOn(22).status).not.toBe(0);
    // the inventory still says port 22: the next run finds sshd on sshd_port and changes nothing
    const again = apply([PLAYBOOK, '-i', INV, '-e', 'sshd_port=2222', '--connect-timeout', '3']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.report.summary).toMatchObject({ ok: 1, changed: 0 });
  });
});

describe.skipIf(skipLab)('hosts without systemd (light lab hosts)', () => {
  const LAB = 'hll';
  let INV = '';
  let hosts: LabHost[] = [];

  beforeAll(() => {
    const inv = `/tmp/hardfleet-test-${LAB}.yml`;
    const r = hardfleet(['lab', 'up', '--name', LAB, '--kind', 'light', '--hosts', '2', '--fresh', '--inventory', inv]);
    expect(r.code, r.stderr).toBe(0);
    INV = inv;
    hosts = labHosts(LAB);
  });
  afterAll(() => {
    hardfleet(['lab', 'down', '--name', LAB]);
  });

  it('runs the playbook, the systemd and Docker steps reported not applicable', () => {
    const r = apply([PLAYBOOK, '-i', INV]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const h of hosts) {
      const steps = Object.fromEntries(r.report.hosts[h.name].steps.map((s) => [s.id, s.status]));
      expect(steps, h.name).toMatchObject({ 'services.minimal': 'n/a', 'docker.daemon': 'n/a', sshd: 'changed', firewall: 'changed', 'admin-user': 'changed' });
      expect(effective(LAB, h.name, 'root').permitrootlogin).toBe('no');
      expect(inside(LAB, h.name, 'iptables -S INPUT | head -1; ip6tables -S INPUT | head -1')).toBe('-P INPUT DROP\n-P INPUT DROP\n');
      expect(ssh(LAB, h.ipv4, 'sudo -n true && echo in', { user: 'hfadmin', key: labFile(LAB, 'admin_ed25519') }).stdout.trim()).toBe('in');
    }
  });

  it('a lockout rolls back through the detached rollback process (no systemd timers here)', () => {
    const before = inside(LAB, 'l001', 'iptables -S; ip6tables -S');
    const r = apply(['test/fixtures/playbooks/lockout-firewall.yml', '-i', INV, '--limit', 'l001']);
    expect(r.report.hosts.l001.status, r.stdout).toBe('rolled-back');
    expect(inside(LAB, 'l001', 'iptables -S; ip6tables -S')).toBe(before);
    expect(ssh(LAB, hosts[0].ipv4, 'sudo -n true && echo in', { user: 'hfadmin', key: labFile(LAB, 'admin_ed25519') }).stdout.trim()).toBe('in');
    expect(inside(LAB, 'l001', 'cat /var/lib/hardfleet/guard/*/rollback.log')).toMatch(/rollback done/);
    // the sleeper that did it is gone, and nothing else of ours is left running
    expect(inside(LAB, 'l001', 'ps -eo args | grep -c "[h]ardfleet-rollback" || true').trim()).toBe('0');
  });
});
