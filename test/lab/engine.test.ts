/**
 * The engine on real hosts (issue 3): facts, an ad-hoc run over two labs, a cut host under a
 * failure budget, a wrong host key, a jump host chain, a timed-out command. Host state is
 * checked out-of-band, through the lab console or plain OpenSSH.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/engine/report.js';
import type { HostFacts } from '../../src/facts/types.js';
import { CLI, ROOT, hardfleet, labFile, onHost, skipLab, ssh, type Out } from './support.js';

/** web1 (canary), web2, db1: systemd, sshd, Docker. */
const FULL = 'eng';
/** l001…l050: sshd alone. */
const LIGHT = 'englt';
const LIGHT_HOSTS = 50;
const INV = `/tmp/hardfleet-test-${FULL}.yml`;
const LIGHT_INV = `/tmp/hardfleet-test-${LIGHT}.yml`;

interface LabHost {
  name: string;
  ipv4: string;
  ipv6: string;
}
const hostsOf = (lab: string): LabHost[] => JSON.parse(readFileSync(labFile(lab, 'state.json'), 'utf8')).hosts;
const host = (lab: string, name: string): LabHost => hostsOf(lab).find((h) => h.name === name)!;

/** A hardfleet command with `--json -`: the exit code, the report on stdout, the recap on stderr. */
function withReport<T = RunReport>(args: string[]): Out & { report: T } {
  const end = args.includes('--') ? args.indexOf('--') : args.length;
  const r = hardfleet([...args.slice(0, end), '--json', '-', ...args.slice(end)]);
  let report: T;
  try {
    report = JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`no JSON report (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { ...r, report };
}

const scratch = mkdtempSync(join(tmpdir(), 'hf-engine-'));

/** The lab's known_hosts with `victim`'s key replaced by `donor`'s (same key type, other host). */
function swappedKnownHosts(victim: string, donor: string): { file: string; line: number } {
  const lines = readFileSync(labFile(FULL, 'known_hosts'), 'utf8').trim().split('\n');
  const nameOf = (l: string) => l.split(' ')[0]!.split(',')[0];
  const keyOf = (name: string) => lines.find((l) => nameOf(l) === name)!.split(' ').slice(1).join(' ');
  const at = lines.findIndex((l) => nameOf(l) === victim);
  expect(keyOf(victim)).not.toBe(keyOf(donor));
  lines[at] = `${lines[at]!.split(' ')[0]} ${keyOf(donor)}`;
  const file = join(scratch, `known_hosts-${victim}-has-${donor}`);
  writeFileSync(file, lines.join('\n') + '\n');
  return { file, line: at + 1 };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A copy of the full lab's inventory using `knownHosts`, with extra vars for some hosts. */
function inventoryCopy(name: string, opts: { knownHosts?: string; hostVars?: Record<string, Record<string, unknown>> }): string {
  let text = readFileSync(INV, 'utf8');
  if (opts.knownHosts) text = text.replaceAll(labFile(FULL, 'known_hosts'), opts.knownHosts);
  const doc = yaml.load(text);
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const hosts = (node as { hosts?: Record<string, Record<string, unknown> | null> }).hosts;
    for (const [h, vars] of Object.entries(opts.hostVars ?? {})) if (hosts && h in hosts) hosts[h] = { ...hosts[h], ...vars };
    for (const child of Object.values(node)) visit(child);
  };
  visit(doc);
  const file = join(scratch, `${name}.yml`);
  writeFileSync(file, yaml.dump(doc));
  return file;
}

describe.skipIf(skipLab)('engine on real hosts', () => {
  beforeAll(() => {
    for (const args of [
      ['--name', FULL, '--hosts', '3', '--inventory', INV],
      ['--name', LIGHT, '--kind', 'light', '--hosts', String(LIGHT_HOSTS), '--inventory', LIGHT_INV],
    ]) {
      const r = hardfleet(['lab', 'up', ...args]);
      expect(r.code, r.stderr).toBe(0);
    }
  });
  afterAll(() => {
    for (const lab of [FULL, LIGHT]) hardfleet(['lab', 'down', '--name', lab]);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('reads the facts of a real host as its console sees them', () => {
    // booted, so that no service starts between the facts and the console's look
    expect(onHost(FULL, 'web1', 'systemctl is-system-running --wait').stdout).toMatch(/running|degraded/);
    const r = withReport<{ facts: Record<string, HostFacts>; errors: Record<string, string> }>(['facts', 'web1', '-i', INV]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.errors).toEqual({});
    const f = r.report.facts.web1!;
    const on = (cmd: string) => {
      const o = onHost(FULL, 'web1', cmd);
      expect(o.code, `${cmd}: ${o.stderr}`).toBe(0);
      return o.stdout;
    };

    const osRelease = Object.fromEntries(on('cat /etc/os-release').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^"|"$/g, '')]));
    expect(f.os).toMatchObject({ id: osRelease.ID, versionId: osRelease.VERSION_ID, prettyName: osRelease.PRETTY_NAME });
    expect([osRelease.ID, osRelease.VERSION_ID]).toEqual(['debian', '12']);
    expect(f.hostname).toBe(on('hostname').trim());
    expect(f.init).toBe(on('test -d /run/systemd/system && echo systemd || echo other').trim());
    expect(on('command -v apt-get >/dev/null && echo apt').trim()).toBe(f.pkgManager);

    // sshd's own version line, and the package's upstream version
    expect(f.openssh!.version).toBe(/OpenSSH_[0-9][0-9.p]*/.exec(on('sshd -V 2>&1 || true'))![0]);
    const pkg = /^(?:\d+:)?(\d+)\.(\d+)/.exec(on("dpkg-query -W -f '${Version}' openssh-server"))!;
    expect([f.openssh!.major, f.openssh!.minor]).toEqual([Number(pkg[1]), Number(pkg[2])]);

    // every `sshd -T` line, multi-valued keys included
    const effective: Record<string, string[]> = {};
    for (const line of on('sshd -T').trim().split('\n')) {
      const [key, ...rest] = line.split(' ');
      (effective[key!] ??= []).push(rest.join(' '));
    }
    expect(f.sshdEffective).toEqual(effective);
    expect(f.sshdEffective.port).toEqual(['22']);

    const engine = on("docker version --format '{{.Server.Version}}'").trim();
    expect(f.docker).toMatchObject({ installed: true, active: on('systemctl is-active docker').trim() === 'active' });
    expect(engine.split('+')[0]).toBe(f.docker.version);

    // the same TCP listeners, with their processes; the lab's 22 (sshd), 23 (telnet) and 111 (rpcbind) among them
    const ss = on('ss -Hltnp').trim().split('\n').map((l) => l.split(/\s+/));
    const local = (addr: string) => ({ address: addr.slice(0, addr.lastIndexOf(':')).replace(/%.*$/, '').replace(/^\[|\]$/g, ''), port: Number(addr.slice(addr.lastIndexOf(':') + 1)) });
    const consoleTcp = ss.map((cols) => local(cols[3]!)).map((l) => `${l.address}:${l.port}`).sort();
    expect(f.listening.filter((l) => l.proto === 'tcp').map((l) => `${l.address}:${l.port}`).sort()).toEqual(consoleTcp);
    for (const [port, proc] of [[22, 'sshd'], [23, 'inetd'], [111, 'rpcbind']] as const) {
      const line = ss.find((cols) => local(cols[3]!).port === port);
      expect(line?.join(' '), `console: port ${port}`).toContain(proc);
      const fact = f.listening.find((l) => l.proto === 'tcp' && l.port === port);
      expect(fact?.processes.map((p) => p.name).join(' '), `facts: port ${port}`).toContain(proc);
    }

    const variant = /\((nf_tables|legacy)\)/.exec(on('iptables --version'))![1];
    expect(f.firewall.iptablesVariant).toBe(variant === 'nf_tables' ? 'nft' : 'legacy');
    expect(f.firewall.ip6tables).toBe(on('command -v ip6tables >/dev/null && echo yes || echo no').trim() === 'yes');
  });

  it(`runs an ad-hoc command on 3 full and ${LIGHT_HOSTS} light hosts from two inventories, every host answering`, () => {
    const r = withReport(['run', '-i', INV, '-i', LIGHT_INV, '--', 'hostname']);
    expect(r.code, r.stderr).toBe(0);
    const all = [...hostsOf(FULL), ...hostsOf(LIGHT)];
    expect(all).toHaveLength(3 + LIGHT_HOSTS);
    expect(r.report.summary).toMatchObject({ ok: all.length, failed: 0, unreachable: 0, notStarted: 0 });
    expect(Object.keys(r.report.hosts).sort()).toEqual(all.map((h) => h.name).sort());
    for (const h of all) expect(r.report.hosts[h.name], h.name).toMatchObject({ status: 'ok', address: h.ipv4, exitCode: 0, stdout: `${h.name}\n` });
    expect(r.stderr).toMatch(new RegExp(`hosts: ${all.length} ok, 0 changed, 0 failed, 0 unreachable, 0 not started`));
  });

  it('reports a cut host unreachable, and under --max-fail 0 starts no later batch', () => {
    const cut = host(LIGHT, 'l002');
    expect(ssh(LIGHT, cut.ipv4, 'true').code).toBe(0);
    expect(hardfleet(['lab', 'cut', '--name', LIGHT, cut.name]).code).toBe(0);
    try {
      expect(ssh(LIGHT, cut.ipv4, 'true').code).not.toBe(0);
      const r = withReport(['run', '-i', LIGHT_INV, '--limit', 'l00*', '--serial', '3', '--max-fail', '0', '--connect-timeout', '3', '--', 'hostname']);
      expect(r.code, r.stderr).toBe(3);
      const { report } = r;
      expect(report.batches).toEqual([['l001', 'l002', 'l003'], ['l004', 'l005', 'l006'], ['l007', 'l008', 'l009']]);
      expect(report.hosts.l002).toMatchObject({ status: 'unreachable', address: cut.ipv4 });
      expect(report.hosts.l002!.error).toMatch(/no answer|no route|timed out/);
      // the hosts of the failing batch that were already running finish their work
      for (const n of ['l001', 'l003']) expect(report.hosts[n]).toMatchObject({ status: 'ok', stdout: `${n}\n` });
      for (const n of report.batches.slice(1).flat()) expect(report.hosts[n]!.status, n).toBe('not-started');
      expect(report.stopped?.reason).toBe('budget');
      expect(report.summary).toMatchObject({ ok: 2, unreachable: 1, notStarted: 6 });
      expect(r.stderr).toMatch(/rollout stopped: failure budget spent/);
    } finally {
      expect(hardfleet(['lab', 'heal', '--name', LIGHT, cut.name]).code).toBe(0);
    }
    expect(ssh(LIGHT, cut.ipv4, 'hostname').stdout.trim()).toBe(cut.name);
  });

  it('refuses, loudly, a host whose key is not the one in known_hosts, while the others proceed', () => {
    const { file: knownHosts, line } = swappedKnownHosts('web2', 'db1');
    // OpenSSH agrees that this known_hosts is wrong for web2, and right for the others
    const web2 = host(FULL, 'web2');
    const plain = ssh(FULL, web2.ipv4, 'true', { knownHosts });
    expect(plain.code).toBe(255);
    expect(plain.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED/);
    expect(ssh(FULL, host(FULL, 'web1').ipv4, 'true', { knownHosts }).code).toBe(0);
    const before = readFileSync(knownHosts, 'utf8');

    const inventory = inventoryCopy('wrong-key', { knownHosts });
    const r = withReport(['run', '-i', inventory, '--', 'hostname']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.report.hosts.web2!.status).toBe('failed');
    expect(r.report.hosts.web2!.error).toMatch(new RegExp(`HOST KEY CHANGED for ${escape(web2.ipv4)}: .*${escape(`${knownHosts}:${line}`)} records .*man-in-the-middle`));
    expect(r.report.hosts.web2!.hint).toMatch(/ssh-keygen -R/);
    expect(r.report.hosts.web2!.stdout).toBeUndefined();
    for (const n of ['web1', 'db1']) expect(r.report.hosts[n]).toMatchObject({ status: 'ok', stdout: `${n}\n` });
    expect(r.stderr).toMatch(/HOST KEY CHANGED/);
    expect(r.stderr).toMatch(/on web2/);
    // refused, not learned, even though the key is a lab host's
    expect(readFileSync(knownHosts, 'utf8')).toBe(before);
    const again = withReport(['run', 'web2', '-i', inventory, '--accept-new', '--', 'true']);
    expect(again.code).toBe(2);
    expect(again.report.hosts.web2!.error).toMatch(/HOST KEY CHANGED/);
    expect(readFileSync(knownHosts, 'utf8')).toBe(before);
  });

  it('reaches a host only its bastion can reach through the bastion, checking both host keys', () => {
    const bastion = host(FULL, 'web2');
    const target = host(FULL, 'db1');
    const reject = (op: '-I' | '-D') =>
      `iptables ${op} INPUT -p tcp --dport 22 ! -s ${bastion.ipv4} -j REJECT && ip6tables ${op} INPUT -p tcp --dport 22 ! -s ${bastion.ipv6} -j REJECT`;
    const fence = onHost(FULL, target.name, reject('-I'));
    expect(fence.code, fence.stderr).toBe(0);
    try {
      // the machine cannot reach the target over either family any more
      expect(ssh(FULL, target.ipv4, 'true').code).toBe(255);
      expect(ssh(FULL, target.ipv6, 'true').code).toBe(255);
      const direct = withReport(['run', target.name, '-i', INV, '--connect-timeout', '3', '--', 'true']);
      expect(direct.code).toBe(2);
      expect(direct.report.hosts[target.name]!.status).toBe('unreachable');

      const jumpInv = inventoryCopy('jump', { hostVars: { [target.name]: { jump: bastion.name } } });
      const r = withReport(['run', target.name, '-i', jumpInv, '--', 'hostname; echo "$SSH_CONNECTION"']);
      expect(r.code, r.stderr).toBe(0);
      const [name, connection] = r.report.hosts[target.name]!.stdout!.trim().split('\n');
      expect(name).toBe(target.name);
      // sshd on the target saw the bastion as the client
      expect(connection!.split(' ')[0]).toBe(bastion.ipv4);

      // a wrong key for the bastion or for the target: refused either way, naming the hop
      for (const [wrong, error] of [
        [bastion, `^via jump host ${bastion.name}: HOST KEY CHANGED for ${escape(bastion.ipv4)}`],
        [target, `^HOST KEY CHANGED for ${escape(target.ipv4)}`],
      ] as const) {
        const knownHosts = swappedKnownHosts(wrong.name, 'web1').file;
        const bad = withReport(['run', target.name, '-i', inventoryCopy(`jump-bad-${wrong.name}`, { knownHosts, hostVars: { [target.name]: { jump: bastion.name } } }), '--', 'true']);
        expect(bad.code, bad.stderr).toBe(2);
        expect(bad.report.hosts[target.name]!.error).toMatch(new RegExp(error));
      }
    } finally {
      const unfence = onHost(FULL, target.name, reject('-D'));
      expect(unfence.code, unfence.stderr).toBe(0);
    }
    expect(ssh(FULL, target.ipv4, 'hostname').stdout.trim()).toBe(target.name);
  });

  it('kills a timed-out command on the host, its whole process group', async () => {
    const count = () => Number(onHost(FULL, 'web1', "pgrep -c -fx 'sleep 60' || true").stdout.trim());
    expect(count()).toBe(0);
    const child = spawn(process.execPath, [CLI, 'run', 'web1', '-i', INV, '--timeout', '2', '--json', '-', '--', 'sleep 60 & sleep 60'], { cwd: ROOT });
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // both sleeps really run on the host before the timeout
    await expect.poll(count, { timeout: 10_000, interval: 200 }).toBe(2);
    expect(await exited).toBe(2);
    const report = JSON.parse(stdout) as RunReport;
    expect(report.hosts.web1).toMatchObject({ status: 'failed' });
    expect(report.hosts.web1!.error).toMatch(/timed out after 2000ms/);
    expect(count()).toBe(0);
  });
});
