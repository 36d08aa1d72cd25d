/** Gather a host's facts: one remote command (factsScript) and a pure parser of its output. */
import type { Remote } from '../core/remote.js';
import { factsScript } from './script.js';
import {
  parseDefaultRoutes, parseDockerVersion, parseDockerdFlags, parseIptablesSave, parseIptablesVariant,
  parseList, parseOpensshVersion, parseSha256sums, parseOsRelease, parsePasswd, parsePidCgroups, parseSections, parseSelinux,
  parseSelinuxPorts, parseSs, parseSshdT, parseStat, parseSystemdSockets, parseUnits, type Section,
} from './parsers.js';
import type { AdminFacts, HostFacts, SshUnits, UnitState } from './types.js';

export { factsScript, sudoersFile } from './script.js';

export interface GatherOptions {
  adminUser?: string;
}

export async function gatherFacts(remote: Remote, opts: GatherOptions = {}): Promise<HostFacts> {
  const r = await remote.exec(factsScript(opts), { sudo: true, timeoutMs: 120_000 });
  return parseFacts(r.stdout);
}

function isActive(units: Record<string, UnitState>, unit: string): boolean {
  return units[unit]?.active === 'active';
}

function known(units: Record<string, UnitState>, unit: string): boolean {
  const u = units[unit];
  return !!u && (u.enabled !== 'not-found' || u.active === 'active');
}

export function parseFacts(output: string): HostFacts {
  const sections = parseSections(output);
  const one = (name: string): string => sections.find((s) => s.name === name)?.body ?? '';
  const has = (name: string): boolean => sections.some((s) => s.name === name);
  const all = (name: string): Section[] => sections.filter((s) => s.name === name);

  const tools = new Set(parseList(one('tools')));
  const units = parseUnits(one('units'));
  const os = parseOsRelease(one('os-release'));

  const sshdFiles: Record<string, string> = {};
  for (const s of all('file')) sshdFiles[s.arg] = s.body;

  const sshUnits: SshUnits = {
    units: Object.fromEntries(
      ['ssh.service', 'sshd.service', 'ssh.socket'].filter((u) => known(units, u)).map((u) => [u, units[u]!]),
    ),
    serviceName: known(units, 'ssh.service') || (!known(units, 'sshd.service') && isDebianLike(os)) ? 'ssh' : 'sshd',
    socketActivated: isActive(units, 'ssh.socket'),
  };

  const persisted = (path: string): string | null => all('persisted').find((s) => s.arg === path)?.body ?? null;
  const persistence = tools.has('netfilter-persistent') || known(units, 'netfilter-persistent.service')
    ? 'netfilter-persistent'
    : known(units, 'iptables.service') ? 'iptables-services' : null;
  const v4 = tools.has('iptables') ? one('iptables-save-v4') : null;
  const v6 = tools.has('ip6tables') ? one('iptables-save-v6') : null;

  const pidUnits = parsePidCgroups(one('pid-cgroups'));
  const dockerVersion = parseDockerVersion(one('docker-version'));

  let admin: AdminFacts | null = null;
  if (has('admin-user')) {
    const homeLines = one('admin-home').split('\n');
    admin = {
      name: one('admin-user').trim(),
      exists: has('admin-home'),
      home: homeLines[0]?.trim() || null,
      homeStat: parseStat(homeLines[1] ?? ''),
      sshDirStat: parseStat(one('admin-ssh-dir')),
      authorizedKeysStat: parseStat(one('admin-ak-stat')),
      authorizedKeys: has('admin-ak') ? one('admin-ak') : null,
      sudoers: has('admin-sudoers') ? one('admin-sudoers') : null,
    };
  }

  const pm = tools.has('apt-get') ? 'apt' : tools.has('dnf') ? 'dnf' : tools.has('yum') ? 'yum' : null;
  const sec = one('security-updates').trim();
  const listsAge = one('pkg-lists-age').trim();

  return {
    hostname: one('hostname').trim(),
    os,
    init: one('init').trim() === 'systemd' ? 'systemd' : 'other',
    pkgManager: pm,
    openssh: parseOpensshVersion(one('openssh')),
    sshdEffective: parseSshdT(one('sshd-t')),
    sshdFiles,
    sshUnits,
    selinux: tools.has('getenforce') ? parseSelinux(one('selinux')) : null,
    selinuxSshPorts: parseSelinuxPorts(one('selinux-ports')),
    firewall: {
      iptablesVariant: tools.has('iptables') ? parseIptablesVariant(one('iptables-version')) : null,
      ip6tables: tools.has('ip6tables'),
      nft: tools.has('nft'),
      ufwActive: isActive(units, 'ufw.service') && tools.has('ufw'),
      firewalldActive: isActive(units, 'firewalld.service'),
      persistence,
      iptablesSave: { v4, v6 },
      filter: { v4: v4 === null ? null : parseIptablesSave(v4), v6: v6 === null ? null : parseIptablesSave(v6) },
      persisted: persistence === 'iptables-services'
        ? { v4: persisted('/etc/sysconfig/iptables'), v6: persisted('/etc/sysconfig/ip6tables') }
        : { v4: persisted('/etc/iptables/rules.v4'), v6: persisted('/etc/iptables/rules.v6') },
    },
    defaultInterfaces: parseDefaultRoutes(one('routes')),
    docker: {
      installed: tools.has('dockerd') || dockerVersion !== null || known(units, 'docker.service'),
      version: dockerVersion,
      active: isActive(units, 'docker.service'),
      daemonJson: has('docker-daemon-json') ? one('docker-daemon-json') : null,
      tlsFiles: parseSha256sums(one('docker-tls')),
      flags: parseDockerdFlags(one('docker-execstart'), one('docker-cmdline')),
    },
    listening: parseSs(one('ss'), pidUnits),
    systemdSockets: parseSystemdSockets(one('systemd-sockets')),
    units,
    users: parsePasswd(one('passwd')),
    admin,
    packages: parseList(one('packages')),
    securityUpdates: /^\d+$/.test(sec) ? Number(sec) : null,
    pkgListsAgeSec: /^\d+$/.test(listsAge) ? Number(listsAge) : null,
    rebootRequired: one('reboot-required').trim() === 'yes',
    tools: {
      sudo: tools.has('sudo'),
      visudo: tools.has('visudo'),
      systemdRun: tools.has('systemd-run'),
      semanage: tools.has('semanage'),
      needsRestarting: tools.has('needs-restarting'),
      unattendedUpgrades: tools.has('unattended-upgrade'),
    },
  };
}

function isDebianLike(os: { id: string; idLike: string[] }): boolean {
  return os.id === 'debian' || os.id === 'ubuntu' || os.idLike.includes('debian');
}
