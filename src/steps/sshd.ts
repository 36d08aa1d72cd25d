/**
 * sshd: key-only login, no root login, short grace, no X11/agent forwarding, optional port move.
 * Compliance is judged from `sshd -T` (what sshd really uses), never from one file's text.
 */
import { z } from 'zod';
import { HostError, RemoteCommandError } from '../core/errors.js';
import type { Remote } from '../core/remote.js';
import { argv, shq } from '../core/shell.js';
import { configValue } from '../core/schemas.js';
import { parseSshdT } from '../facts/parsers.js';
import type { HostFacts } from '../facts/types.js';
import {
  DROPIN, MAIN, commentOutPorts, dropinWins, dropinsBefore, globalKeys, matchBlocks, renderDropin, withManagedBlock,
  type Directive,
} from './sshd-config.js';
import { StepRefusedError, type Change, type FileDiff, type Plan, type PlanContext, type StepDefinition } from './types.js';
import { backupScript, dropBackupsScript, must, restoreScript, sh, varPort, varString, varStrings, versionAtLeast } from './util.js';

const settingsSchema = z.object({
  /** Jump hosts need forwarding: left alone unless set. */
  allow_tcp_forwarding: z.enum(['yes', 'no', 'local', 'remote', 'all']).optional(),
  /** Extra or overriding directives, e.g. { MaxAuthTries: "4" }. */
  directives: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'must be an sshd_config keyword such as MaxAuthTries'), configValue).optional(),
});

/** OpenSSH release that introduced a keyword (others are older than any supported host). */
const SINCE: Record<string, string> = {
  kbdinteractiveauthentication: '8.7',
  authenticationmethods: '6.2',
};

/** Where sshd -T is checked: a user and an address no Match block of the operator is likely to name. */
const VERIFY_ADDR = '198.18.0.1';

function wantedDirectives(f: HostFacts, settings: z.infer<typeof settingsSchema>, warnings: string[]): Directive[] {
  const ssh = f.openssh ? `${f.openssh.major}.${f.openssh.minor}` : null;
  const kbd = ssh === null || versionAtLeast(ssh, '8.7') ? 'KbdInteractiveAuthentication' : 'ChallengeResponseAuthentication';
  const list: Array<[string, string]> = [
    ['PermitRootLogin', 'no'],
    ['PasswordAuthentication', 'no'],
    [kbd, 'no'],
    ['PubkeyAuthentication', 'yes'],
    ['AuthenticationMethods', 'publickey'],
    ['MaxAuthTries', '3'],
    ['LoginGraceTime', '30'],
    ['X11Forwarding', 'no'],
    ['AllowAgentForwarding', 'no'],
    ['ClientAliveInterval', '300'],
    ['ClientAliveCountMax', '2'],
  ];
  if (settings.allow_tcp_forwarding) list.push(['AllowTcpForwarding', settings.allow_tcp_forwarding]);
  for (const [name, value] of Object.entries(settings.directives ?? {})) {
    const i = list.findIndex(([n]) => n.toLowerCase() === name.toLowerCase());
    if (i >= 0) list[i] = [list[i]![0], value];
    else list.push([name, value]);
  }
  const knownToSshd = Object.keys(f.sshdEffective).length > 0;
  return list.filter(([name]) => {
    const key = name.toLowerCase();
    const since = SINCE[key];
    const tooOld = (since && ssh && !versionAtLeast(ssh, since)) || (knownToSshd && !(key in f.sshdEffective));
    if (tooOld) warnings.push(`sshd ${f.openssh?.version ?? ''} does not know ${name}: not set`);
    return !tooOld;
  }).map(([name, value]) => ({ name, values: [value] }));
}

function differs(effective: Record<string, string[]>, d: Directive): boolean {
  const have = effective[d.name.toLowerCase()] ?? [];
  if (d.name === 'Port') return [...have].sort().join() !== [...d.values].sort().join();
  return (have[0] ?? '').toLowerCase() !== d.values[0]!.toLowerCase();
}

/** Shell that makes sshd use the files now on disk. */
function reloadScript(f: HostFacts, portsChanged: boolean): string {
  if (f.init !== 'systemd') return `service ${f.sshUnits.serviceName} reload`;
  if (f.sshUnits.socketActivated) {
    // The socket unit owns the port (generated from sshd_config on daemon-reload); sshd itself is
    // started per connection and reads the new file anyway.
    return portsChanged ? 'systemctl daemon-reload && systemctl restart ssh.socket' : 'true';
  }
  return `systemctl reload ${f.sshUnits.serviceName}`;
}

interface ConfigFiles {
  files: FileDiff[];
}

/** The files to write so that `directives` take effect first, and no stray Port line remains. */
function configFiles(f: HostFacts, directives: Directive[], managePort: boolean): ConfigFiles {
  const main = f.sshdFiles[MAIN] ?? '';
  const keys = directives.map((d) => d.name.toLowerCase());
  const out = new Map<string, string>();
  if (dropinWins(main, keys)) {
    out.set(DROPIN, renderDropin(directives));
    if (managePort) {
      for (const [path, content] of Object.entries(f.sshdFiles)) {
        if (path !== DROPIN) out.set(path, commentOutPorts(content));
      }
    }
  } else {
    const base = managePort ? commentOutPorts(main) : main;
    out.set(MAIN, withManagedBlock(base, directives));
    if (managePort) {
      for (const [path, content] of Object.entries(f.sshdFiles)) {
        if (path !== MAIN) out.set(path, commentOutPorts(content));
      }
    }
  }
  const files: FileDiff[] = [];
  for (const [path, after] of out) {
    const before = f.sshdFiles[path] ?? null;
    if (before !== after) files.push({ path, before, after });
  }
  return { files };
}

function configChange(
  f: HostFacts, ctx: PlanContext, summary: string, directives: Directive[], managePort: boolean, portsChanged: boolean,
): Change {
  const { files } = configFiles(f, directives, managePort);
  const paths = files.map((x) => x.path);
  const reload = reloadScript(f, portsChanged);
  const user = varString(ctx.vars, 'admin_user') ?? 'root';
  return {
    summary,
    files,
    guard: 'login',
    backupPaths: paths,
    rollbackScript: reload,
    async apply(remote) {
      await must(remote, backupScript(paths), 'back up sshd config');
      for (const file of files) await remote.writeFile(file.path, file.after ?? '', { mode: 0o600, owner: 'root', group: 'root', sudo: true });
      const test = await sh(remote, 'mkdir -p /run/sshd && sshd -t', { allowFailure: true });
      if (test.code !== 0) {
        await sh(remote, restoreScript(paths), { allowFailure: true });
        throw new RemoteCommandError(test, 'sshd -t rejected the new config (previous files restored)');
      }
      await must(remote, reload, 'reload sshd');
      await sh(remote, dropBackupsScript(paths), { allowFailure: true });
    },
    async verify(remote) {
      const r = await must(remote, argv('sshd', '-T', '-C', `user=${user},host=x,addr=${VERIFY_ADDR}`), 'sshd -T');
      const eff = parseSshdT(r.stdout);
      const wrong = directives.filter((d) => differs(eff, d));
      if (wrong.length) {
        throw new HostError(remote.name, `sshd still uses ${wrong.map((d) => `${d.name} ${(eff[d.name.toLowerCase()] ?? []).join(',')}`).join('; ')}`,
          'another file read before hardfleet\'s sets these (see sshd -T -C user=...)');
      }
    },
  };
}

function selinuxChange(port: number): Change {
  const args = ['-t', 'ssh_port_t', '-p', 'tcp', String(port)];
  return {
    summary: `semanage port -a -t ssh_port_t -p tcp ${port} (or -m when already defined)`,
    async apply(remote) {
      await must(remote, [
        'command -v semanage >/dev/null 2>&1 || { if command -v dnf >/dev/null 2>&1; then dnf -y install policycoreutils-python-utils; else yum -y install policycoreutils-python-utils || yum -y install policycoreutils-python; fi; }',
        `semanage port -a ${argv(...args)} 2>/dev/null || semanage port -m ${argv(...args)}`,
      ].join('\n'), `label port ${port} ssh_port_t`);
    },
    async verify(remote) {
      await must(remote, `semanage port -l | grep '^ssh_port_t' | grep -qw ${shq(port)}`, `port ${port} labelled ssh_port_t`);
    },
  };
}

/** Open a port for sshd in whatever firewall the host runs (the firewall step later owns the rules). */
export function openSshPortScript(f: HostFacts, port: number): string | null {
  const p = shq(port);
  if (f.firewall.firewalldActive) return `firewall-cmd --permanent --add-port=${p}/tcp && firewall-cmd --reload`;
  if (f.firewall.ufwActive) return `ufw allow ${p}/tcp`;
  const cmds: string[] = [];
  for (const [tool, present] of [['iptables', f.firewall.filter.v4 !== null], ['ip6tables', f.firewall.filter.v6 !== null]] as const) {
    if (!present) continue;
    const rule = `INPUT -p tcp -m tcp --dport ${p} -m comment --comment hardfleet-ssh -j ACCEPT`;
    cmds.push(`${tool} -C ${rule} 2>/dev/null || ${tool} -I ${rule.replace('INPUT', 'INPUT 1')}`);
  }
  return cmds.length ? cmds.join('\n') : null;
}

function closeSshPortsScript(f: HostFacts, ports: number[]): string {
  const cmds: string[] = [];
  for (const port of ports) {
    const p = shq(port);
    if (f.firewall.firewalldActive) {
      cmds.push(`firewall-cmd --permanent --remove-port=${p}/tcp >/dev/null 2>&1 || true`);
      if (port === 22) cmds.push('firewall-cmd --permanent --remove-service=ssh >/dev/null 2>&1 || true');
    } else if (f.firewall.ufwActive) {
      cmds.push(`ufw delete allow ${p}/tcp >/dev/null 2>&1 || true`, `ufw delete allow OpenSSH >/dev/null 2>&1 || true`);
    } else {
      for (const tool of ['iptables', 'ip6tables']) {
        cmds.push(`while ${tool} -D INPUT -p tcp -m tcp --dport ${p} -m comment --comment hardfleet-ssh -j ACCEPT 2>/dev/null; do :; done`);
      }
    }
  }
  if (f.firewall.firewalldActive) cmds.push('firewall-cmd --reload');
  return cmds.join('\n');
}

function matchWarnings(f: HostFacts): string[] {
  const out: string[] = [];
  for (const [path, content] of Object.entries(f.sshdFiles)) {
    for (const m of matchBlocks(content)) {
      const allows = ['passwordauthentication', 'kbdinteractiveauthentication', 'challengeresponseauthentication']
        .filter((k) => m.directives[k] === 'yes');
      if (allows.length) out.push(`${path}: "${m.header}" still allows password login (${allows.join(', ')} yes); kept as written`);
      if (m.directives.permitrootlogin && m.directives.permitrootlogin !== 'no') out.push(`${path}: "${m.header}" still permits root login; kept as written`);
    }
  }
  return out;
}

function checkAdminKey(f: HostFacts, ctx: PlanContext): void {
  const admin = varString(ctx.vars, 'admin_user');
  if (!admin || !f.admin) return;
  const hasKey = /^\s*(ssh-|ecdsa-|sk-)/m.test(f.admin.authorizedKeys ?? '') || varStrings(ctx.vars, 'admin_keys').length > 0;
  if (!hasKey) {
    throw new StepRefusedError(`admin user ${admin} has no authorized key and admin_keys is empty: disabling passwords would lock everyone out`,
      'set admin_keys in the playbook or install a key for the admin user first');
  }
}

export function planSshd(f: HostFacts, ctx: PlanContext): Plan {
  if (!f.openssh && Object.keys(f.sshdEffective).length === 0) return { changes: [], warnings: [], notApplicable: 'no sshd found' };
  const settings = settingsSchema.parse(ctx.settings ?? {});
  const warnings = matchWarnings(f);
  checkAdminKey(f, ctx);
  if (!varString(ctx.vars, 'admin_user')) warnings.push('no admin_user set: the login proof relies on the connecting user');
  const directives = wantedDirectives(f, settings, warnings);
  const wanted = directives.filter((d) => differs(f.sshdEffective, d));

  const earlier = dropinsBefore(Object.keys(f.sshdFiles)).filter((p) =>
    directives.some((d) => globalKeys(f.sshdFiles[p]!).has(d.name.toLowerCase())));
  for (const p of earlier) warnings.push(`${p} is read before ${DROPIN} and sets directives hardfleet manages`);

  const port = varPort(ctx.vars, 'sshd_port');
  const current = (f.sshdEffective.port ?? ['22']).map(Number);
  const moving = port !== undefined && (current.length !== 1 || current[0] !== port);
  if (!moving && wanted.length === 0) return { changes: [], warnings };

  const names = (ds: Directive[]) => ds.map((d) => `${d.name} ${d.values.join(',')}`).join(', ');
  if (!moving) {
    const keep = port !== undefined ? [{ name: 'Port', values: [String(port)] }] : [];
    return {
      changes: [configChange(f, ctx, `sshd: ${names(wanted)}`, [...keep, ...directives], port !== undefined, false)],
      warnings,
    };
  }

  const changes: Change[] = [];
  const newPort = port!;
  if (f.selinux && f.selinux !== 'disabled' && !f.selinuxSshPorts.includes(newPort)) changes.push(selinuxChange(newPort));
  const open = openSshPortScript(f, newPort);
  if (open) {
    changes.push({
      summary: `firewall accepts tcp/${newPort} for sshd (before sshd moves)`,
      async apply(remote) { await must(remote, open, `open tcp/${newPort}`); },
    });
  }
  const both = [...new Set([...current, newPort])].map(String);
  changes.push({
    ...configChange(f, ctx, `sshd listens on ${both.join(' and ')}${wanted.length ? `; ${names(wanted)}` : ''}`,
      [{ name: 'Port', values: both }, ...directives], true, true),
    proveLoginOn: newPort,
  });
  const old = current.filter((p) => p !== newPort);
  // Second stage: planned from the facts of the first, as the host will be once the login on the new port is proven.
  const staged: HostFacts = { ...f, sshdFiles: { ...f.sshdFiles } };
  for (const file of changes[changes.length - 1]!.files ?? []) if (file.after !== null) staged.sshdFiles[file.path] = file.after;
  const final = configChange(staged, ctx, `sshd listens on ${newPort} only; port ${old.join(', ')} closed`,
    [{ name: 'Port', values: [String(newPort)] }, ...directives], true, true);
  const close = closeSshPortsScript(f, old);
  changes.push({
    ...final,
    async apply(remote: Remote) {
      await final.apply(remote);
      if (close) await must(remote, close, `close old ssh port ${old.join(', ')}`);
    },
  });
  return { changes, warnings };
}

export const sshdStep: StepDefinition = {
  id: 'sshd',
  tags: ['ssh', 'login'],
  guarded: true,
  settingsSchema,
  plan: planSshd,
};
