/**
 * The one shell script that reads every fact of a host. POSIX sh, run as root; each piece is
 * tolerant of missing tools so a light host still answers. Sections are delimited by
 * `@@HF:<name>[ <arg>]@@` lines (see parseSections).
 */
import { shq } from '../core/shell.js';

export const SUDOERS_DIR = '/etc/sudoers.d';

/** Touched by packages.security-updates after it refreshed the lists and installed what was pending. */
export const PKG_LISTS_STAMP = '/var/lib/hardfleet/pkg-lists-refreshed';

/** File name of hardfleet's sudoers drop-in: sudo ignores names containing a dot. */
export function sudoersFile(user: string): string {
  return `${SUDOERS_DIR}/90-hardfleet-${user.replace(/\./g, '_')}`;
}

const UNITS = [
  'ssh.service', 'sshd.service', 'ssh.socket', 'docker.service', 'docker.socket', 'containerd.service',
  'ufw.service', 'firewalld.service', 'netfilter-persistent.service', 'iptables.service',
  'ip6tables.service', 'nftables.service',
];

const TOOLS = [
  'sudo', 'visudo', 'systemd-run', 'semanage', 'needs-restarting', 'unattended-upgrade',
  'iptables', 'ip6tables', 'nft', 'ufw', 'firewall-cmd', 'netfilter-persistent', 'docker', 'dockerd',
  'sshd', 'apt-get', 'dnf', 'yum', 'getenforce',
];

export function factsScript(opts: { adminUser?: string } = {}): string {
  const admin = opts.adminUser;
  const lines = [
    'export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    "s() { printf '\\n@@HF:%s@@\\n' \"$*\"; }",
    's hostname; hostname 2>/dev/null || cat /etc/hostname 2>/dev/null || true',
    's os-release; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null || true',
    's init; if [ -d /run/systemd/system ]; then echo systemd; else echo other; fi',
    `s tools; for t in ${TOOLS.join(' ')}; do command -v "$t" >/dev/null 2>&1 && echo "$t"; done; true`,
    's openssh; { sshd -V 2>&1; ssh -V 2>&1; } | grep -m1 -o "OpenSSH_[0-9][0-9.p]*" || true',
    's sshd-t; mkdir -p /run/sshd 2>/dev/null; sshd -T 2>/dev/null || true',
    // The main file, then every file its Include lines match (relative patterns are under /etc/ssh).
    'if [ -f /etc/ssh/sshd_config ]; then s file /etc/ssh/sshd_config; cat /etc/ssh/sshd_config; fi',
    'for p in $(sed -n "s/^[[:space:]]*[Ii][Nn][Cc][Ll][Uu][Dd][Ee][[:space:]][[:space:]]*//p" /etc/ssh/sshd_config 2>/dev/null); do',
    '  case "$p" in /*) ;; *) p="/etc/ssh/$p";; esac',
    '  for f in $p; do [ -f "$f" ] && { s file "$f"; cat "$f"; }; done',
    'done; true',
    `s units; for u in ${UNITS.join(' ')}; do printf '%s %s %s\\n' "$u" "$(systemctl is-active "$u" 2>/dev/null)" "$(systemctl is-enabled "$u" 2>/dev/null)"; done; true`,
    's selinux; getenforce 2>/dev/null || true',
    's selinux-ports; semanage port -l 2>/dev/null | grep "^ssh_port_t" || true',
    's iptables-version; iptables -V 2>/dev/null || true',
    's iptables-save-v4; iptables-save -t filter 2>/dev/null || true',
    's iptables-save-v6; ip6tables-save -t filter 2>/dev/null || true',
    'for f in /etc/iptables/rules.v4 /etc/iptables/rules.v6 /etc/sysconfig/iptables /etc/sysconfig/ip6tables; do [ -f "$f" ] && { s persisted "$f"; cat "$f"; }; done; true',
    's routes; ip -o route show default 2>/dev/null; ip -o -6 route show default 2>/dev/null; true',
    's docker-version; dockerd --version 2>/dev/null || docker --version 2>/dev/null || true',
    'if [ -f /etc/docker/daemon.json ]; then s docker-daemon-json; cat /etc/docker/daemon.json; fi',
    's docker-tls; sha256sum /etc/docker/tls/ca.pem /etc/docker/tls/server-cert.pem /etc/docker/tls/server-key.pem 2>/dev/null || true',
    's docker-execstart; systemctl show docker.service -p ExecStart --value 2>/dev/null || true',
    's docker-cmdline; for p in $(pidof dockerd 2>/dev/null); do tr "\\000" " " < "/proc/$p/cmdline"; echo; done; true',
    's ss; ss -Hltnup 2>/dev/null || true',
    's pid-cgroups; for p in $(ss -Hltnup 2>/dev/null | grep -o "pid=[0-9]*" | cut -d= -f2 | sort -u); do sed "s|^|$p |" "/proc/$p/cgroup" 2>/dev/null; done; true',
    's systemd-sockets; systemctl list-sockets --no-legend --no-pager 2>/dev/null || true',
    's passwd; getent passwd 2>/dev/null || cat /etc/passwd 2>/dev/null || true',
    's packages; if command -v dpkg-query >/dev/null 2>&1; then dpkg-query -W -f "\\${Status} \\${Package}\\n" 2>/dev/null | awk \'$3=="installed"{print $4}\'; elif command -v rpm >/dev/null 2>&1; then rpm -qa --qf "%{NAME}\\n" 2>/dev/null; fi; true',
    's security-updates; if command -v apt-get >/dev/null 2>&1; then apt-get -s -o Debug::NoLocking=1 dist-upgrade 2>/dev/null | grep -c "^Inst .*[Ss]ecurity" || true; fi',
    // Seconds since the package lists were last refreshed (by hardfleet's stamp, or apt's own).
    `s pkg-lists-age; t=0; for f in ${PKG_LISTS_STAMP} /var/lib/apt/periodic/update-success-stamp; do [ -f "$f" ] && m=$(stat -c %Y "$f") && [ "$m" -gt "$t" ] && t=$m; done; [ "$t" -gt 0 ] && echo $(( $(date +%s) - t )); true`,
    's reboot-required; if [ -f /var/run/reboot-required ]; then echo yes; elif command -v needs-restarting >/dev/null 2>&1; then needs-restarting -r >/dev/null 2>&1; [ $? -eq 1 ] && echo yes || echo no; else echo no; fi',
  ];
  if (admin) {
    const u = shq(admin);
    lines.push(
      `u=${u}; h=$(getent passwd "$u" 2>/dev/null | cut -d: -f6)`,
      's admin-user; echo "$u"',
      'if [ -n "$h" ]; then',
      '  s admin-home; echo "$h"; stat -c "%a %U %G" "$h" 2>/dev/null',
      '  s admin-ssh-dir; stat -c "%a %U %G" "$h/.ssh" 2>/dev/null',
      '  s admin-ak-stat; stat -c "%a %U %G" "$h/.ssh/authorized_keys" 2>/dev/null',
      '  [ -f "$h/.ssh/authorized_keys" ] && { s admin-ak; cat "$h/.ssh/authorized_keys"; }',
      'fi',
      `f=${shq(sudoersFile(admin))}; [ -f "$f" ] && { s admin-sudoers; cat "$f"; }`,
      'true',
    );
  }
  lines.push('s end');
  return lines.join('\n') + '\n';
}
