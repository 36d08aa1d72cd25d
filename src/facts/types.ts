/**
 * Everything hardfleet knows about a host, gathered in one round trip (see gather.ts). Plain data:
 * steps plan from it without touching the host.
 */

export interface OsInfo {
  id: string;
  idLike: string[];
  versionId: string;
  prettyName: string;
}

export interface OpensshInfo {
  /** As printed, e.g. "OpenSSH_9.2p1". */
  version: string;
  major: number;
  minor: number;
}

export interface UnitState {
  /** `systemctl is-active`: active, inactive, failed, ... */
  active: string;
  /** `systemctl is-enabled`: enabled, disabled, static, masked, not-found, ... */
  enabled: string;
}

export interface SshUnits {
  /** ssh.service, sshd.service, ssh.socket: only those systemd knows. */
  units: Record<string, UnitState>;
  /** Debian/Ubuntu call the service ssh, RHEL sshd. */
  serviceName: 'ssh' | 'sshd';
  /** Ubuntu 22.10+: sshd started per connection by ssh.socket; the port lives in the socket unit. */
  socketActivated: boolean;
}

export interface ChainState {
  /** Built-in chains: ACCEPT/DROP; user chains: null. */
  policy: string | null;
  /** Rules as iptables-save prints them, e.g. "-A INPUT -i lo -j ACCEPT". */
  rules: string[];
}

/** The filter table as `iptables-save -t filter` shows it; chains in the order listed. */
export interface FilterTable {
  chains: Record<string, ChainState>;
}

export interface FirewallFacts {
  iptablesVariant: 'nft' | 'legacy' | null;
  ip6tables: boolean;
  nft: boolean;
  ufwActive: boolean;
  firewalldActive: boolean;
  persistence: 'netfilter-persistent' | 'iptables-services' | null;
  /** Raw `iptables-save -t filter` / `ip6tables-save -t filter`; null when the tool is missing. */
  iptablesSave: { v4: string | null; v6: string | null };
  filter: { v4: FilterTable | null; v6: FilterTable | null };
  /** Content of the persistence files (rules.v4/rules.v6 or /etc/sysconfig/iptables, ip6tables). */
  persisted: { v4: string | null; v6: string | null };
}

export interface DockerFacts {
  installed: boolean;
  /** Engine version, e.g. "24.0.7"; null when unknown. */
  version: string | null;
  active: boolean;
  /** /etc/docker/daemon.json as it is; null when the file does not exist. */
  daemonJson: string | null;
  /** sha256 of the TLS files hardfleet installs, by path (absent files are missing). */
  tlsFiles: Record<string, string>;
  /** dockerd arguments from the unit's ExecStart and the running process (union, argv words). */
  flags: string[];
}

export interface ListenProcess {
  name: string;
  pid: number;
}

export interface ListenSocket {
  proto: 'tcp' | 'udp';
  /** Local address without brackets or %iface: "0.0.0.0", "::", "127.0.0.1", "*". */
  address: string;
  port: number;
  processes: ListenProcess[];
  /** systemd units owning the processes (from /proc/PID/cgroup) or the socket unit listening. */
  units: string[];
}

export interface SystemdSocket {
  listen: string;
  unit: string;
  activates: string;
}

export interface UserEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export interface FileStat {
  /** Octal permission bits, e.g. 0o755. */
  mode: number;
  owner: string;
  group: string;
}

export interface AdminFacts {
  name: string;
  exists: boolean;
  home: string | null;
  homeStat: FileStat | null;
  sshDirStat: FileStat | null;
  authorizedKeysStat: FileStat | null;
  authorizedKeys: string | null;
  /** Content of /etc/sudoers.d/90-hardfleet-<user>, when present. */
  sudoers: string | null;
}

export interface ToolFacts {
  sudo: boolean;
  visudo: boolean;
  systemdRun: boolean;
  semanage: boolean;
  needsRestarting: boolean;
  unattendedUpgrades: boolean;
}

export interface HostFacts {
  hostname: string;
  os: OsInfo;
  init: 'systemd' | 'other';
  pkgManager: 'apt' | 'dnf' | 'yum' | null;
  openssh: OpensshInfo | null;
  /** `sshd -T`: lowercase keys; every value kept, so multi-valued keys (port, listenaddress, hostkey) are arrays. */
  sshdEffective: Record<string, string[]>;
  /** Path → content: /etc/ssh/sshd_config and every file its Include lines match. */
  sshdFiles: Record<string, string>;
  sshUnits: SshUnits;
  selinux: 'enforcing' | 'permissive' | 'disabled' | null;
  /** TCP ports labelled ssh_port_t (`semanage port -l`); empty when unknown. */
  selinuxSshPorts: number[];
  firewall: FirewallFacts;
  /** Interfaces of the default routes (v4 and v6), e.g. ["eth0"]. */
  defaultInterfaces: string[];
  docker: DockerFacts;
  listening: ListenSocket[];
  systemdSockets: SystemdSocket[];
  /** Unit states of interesting services (docker, firewalls, persistence, ssh). */
  units: Record<string, UnitState>;
  users: UserEntry[];
  admin: AdminFacts | null;
  packages: string[];
  /** Pending security updates from cached package lists; null when not cheaply known. */
  securityUpdates: number | null;
  /** Seconds since the package lists were refreshed (hardfleet's or apt's stamp); null when never. */
  pkgListsAgeSec: number | null;
  rebootRequired: boolean;
  tools: ToolFacts;
}
