/** admin-user: a named user with the operator's keys, strict modes, and passwordless sudo. */
import { z } from 'zod';
import { HostError, RemoteCommandError } from '../core/errors.js';
import { argv, shq } from '../core/shell.js';
import { sudoersFile } from '../facts/script.js';
import type { HostFacts } from '../facts/types.js';
import { StepRefusedError, type Change, type Plan, type PlanContext, type StepDefinition } from './types.js';
import { installCommand, must, sh, varString, varStrings } from './util.js';

const settingsSchema = z.object({ shell: z.string().default('/bin/bash') });

const USER_RE = /^[a-z_][a-z0-9_.-]{0,31}$/;

function keyLines(text: string | null): string[] {
  return (text ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

/** The key itself (type and base64), so a changed comment does not add a duplicate. */
function keyId(line: string): string {
  const m = /(?:^|\s)((?:ssh-|ecdsa-|sk-)\S+\s+\S+)/.exec(line);
  return m ? m[1]! : line;
}

export function planAdminUser(f: HostFacts, ctx: PlanContext): Plan {
  const user = varString(ctx.vars, 'admin_user');
  if (!user) return { changes: [], warnings: [], notApplicable: 'no admin_user set' };
  if (!USER_RE.test(user)) throw new StepRefusedError(`admin_user ${JSON.stringify(user)} is not a valid user name`);
  const settings = settingsSchema.parse(ctx.settings ?? {});
  const keys = varStrings(ctx.vars, 'admin_keys').map((k) => k.trim()).filter(Boolean);
  const a = f.admin && f.admin.name === user ? f.admin : null;
  const exists = a?.exists ?? f.users.some((u) => u.name === user);
  const changes: Change[] = [];
  const warnings: string[] = [];

  if (!exists) {
    changes.push({
      summary: `create user ${user}`,
      async apply(remote) {
        // '*' (no password) rather than useradd's '!' (locked): without PAM, sshd refuses even key
        // logins to a locked account, and this user exists to log in by key.
        await must(remote, argv('useradd', '-m', '-U', '-p', '*', '-s', settings.shell, user), `useradd ${user}`);
      },
    });
  }

  const existing = keyLines(a?.authorizedKeys ?? null);
  const have = new Set(existing.map(keyId));
  const missing = keys.filter((k) => !have.has(keyId(k)));
  if (existing.length === 0 && keys.length === 0) {
    throw new StepRefusedError(`admin user ${user} has no authorized key and admin_keys is empty`,
      'add the operator\'s public key to admin_keys: without it, key-only login would lock the admin out');
  }

  const home = a?.home ?? `/home/${user}`;
  const ssh = `${home}/.ssh`;
  const ak = `${ssh}/authorized_keys`;
  const fixes: string[] = [];
  const homeStat = exists ? a?.homeStat : null;
  if (homeStat && (homeStat.mode & 0o022) !== 0) fixes.push(`home ${homeStat.mode.toString(8)} -> go-w`);
  if (homeStat && homeStat.owner !== user && homeStat.owner !== 'root') fixes.push(`home owner ${homeStat.owner} -> ${user}`);
  const sd = exists ? a?.sshDirStat : null;
  if (!sd || sd.mode !== 0o700 || sd.owner !== user) fixes.push(`~/.ssh ${sd ? sd.mode.toString(8) : 'missing'} -> 700`);
  const ks = exists ? a?.authorizedKeysStat : null;
  if (!ks || ks.mode !== 0o600 || ks.owner !== user) fixes.push(`authorized_keys ${ks ? ks.mode.toString(8) : 'missing'} -> 600`);

  if (missing.length || fixes.length) {
    const content = [...existing, ...missing].join('\n') + '\n';
    const before = a?.authorizedKeys ?? null;
    changes.push({
      summary: [missing.length ? `add ${missing.length} key(s) for ${user}` : '', fixes.length ? `modes: ${fixes.join(', ')}` : '']
        .filter(Boolean).join('; '),
      files: missing.length ? [{ path: ak, before, after: content }] : [],
      async apply(remote) {
        // StrictModes refuses keys under a group/world-writable home or ~/.ssh.
        const h = `$(getent passwd ${shq(user)} | cut -d: -f6)`;
        await must(remote, [
          `h=${h}; [ -n "$h" ] || exit 1`,
          `chmod go-w "$h"`,
          `case "$(stat -c %U "$h")" in ${shq(user)}|root) ;; *) chown ${shq(user)} "$h";; esac`,
          `mkdir -p "$h/.ssh" && chown ${shq(user)}: "$h/.ssh" && chmod 700 "$h/.ssh"`,
        ].join('\n'), `repair ${user}'s home and ~/.ssh`);
        if (missing.length) await remote.writeFile(ak, content, { mode: 0o600, owner: user, sudo: true });
        await must(remote, `h=${h}; touch "$h/.ssh/authorized_keys" && chown ${shq(user)}: "$h/.ssh/authorized_keys" && chmod 600 "$h/.ssh/authorized_keys"`,
          'authorized_keys modes');
      },
      async verify(remote) {
        const r = await must(remote, `h=$(getent passwd ${shq(user)} | cut -d: -f6); stat -c '%a %U' "$h" "$h/.ssh" "$h/.ssh/authorized_keys"`, 'stat admin files');
        const [hm, sm, km] = r.stdout.trim().split('\n');
        const bad = (parseInt(hm ?? '777', 8) & 0o022) !== 0 || !sm?.startsWith(`700 ${user}`) || !km?.startsWith(`600 ${user}`);
        if (bad) throw new HostError(remote.name, `modes of ${user}'s home/.ssh/authorized_keys still wrong: ${r.stdout.trim().replace(/\n/g, '; ')}`);
      },
    });
  }

  const path = sudoersFile(user);
  const sudoers = `# Managed by hardfleet\n${user} ALL=(ALL) NOPASSWD: ALL\n`;
  if ((a?.sudoers ?? null) !== sudoers) {
    const tmp = `/etc/sudoers.d/.hardfleet-${user.replace(/\./g, '_')}.new`;
    changes.push({
      summary: `sudo NOPASSWD for ${user} (${path}, checked by visudo first)`,
      files: [{ path, before: a?.sudoers ?? null, after: sudoers }],
      async apply(remote) {
        if (!f.tools.sudo || !f.tools.visudo) await must(remote, installCommand(f.pkgManager, ['sudo']), 'install sudo');
        // sudo ignores names with a dot: the candidate is inert until visudo accepts it and it is renamed.
        await remote.writeFile(tmp, sudoers, { mode: 0o440, owner: 'root', group: 'root', sudo: true });
        const check = await sh(remote, argv('visudo', '-cf', tmp), { allowFailure: true });
        if (check.code !== 0) {
          await sh(remote, argv('rm', '-f', tmp), { allowFailure: true });
          throw new RemoteCommandError(check, 'visudo rejected the sudoers drop-in (not installed)');
        }
        await must(remote, argv('mv', '-f', tmp, path), 'install sudoers drop-in');
      },
      async verify(remote) {
        await must(remote, `sudo -l -U ${shq(user)} | grep -q NOPASSWD`, `sudo rights of ${user}`);
      },
    });
  }
  return { changes, warnings };
}

export const adminUserStep: StepDefinition = {
  id: 'admin-user',
  tags: ['users', 'login'],
  settingsSchema,
  plan: planAdminUser,
};
