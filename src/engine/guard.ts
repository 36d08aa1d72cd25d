/**
 * Guarded changes: a change that can lock the operator out (sshd, firewall) is applied only
 * between two proofs that SSH still works, with an on-host rollback armed in between.
 *
 *   1. a FRESH login as the admin user (new TCP, new authentication) succeeds, and sudo -n works;
 *   2. the host arms its own rollback: the previous files and rules come back after the window,
 *      whatever happens to the controller (a systemd timer, or a detached sleeper without systemd);
 *   3. the change is applied;
 *   4. a brand-new login is proven again (on the new port, when the port moved);
 *   5. the rollback is disarmed at once.
 * If step 4 fails, the host restores itself when the window ends; we wait for that, reconnect and
 * report the host rolled back.
 */
import { randomBytes } from 'node:crypto';
import type { Remote } from '../core/remote.js';
import { HardfleetError, RemoteCommandError } from '../core/errors.js';
import { shq } from '../core/shell.js';
import type { Change } from '../steps/types.js';

export const GUARD_ROOT = '/var/lib/hardfleet/guard';

export interface GuardDeps {
  /** The run's own connection (root or become). Used to arm and disarm, never as proof. */
  main: Remote;
  /** Open a brand-new connection as the admin user with the admin key, run `sudo -n true`, close. */
  proveLogin(port?: number): Promise<void>;
  /** After a failed proof: a new connection as the run's user (the old one may be dead). */
  reconnect(): Promise<Remote>;
  windowSec: number;
  systemd: boolean;
  progress(msg: string): void;
}

/** The proof failed and the host restored itself. */
export class RolledBackError extends HardfleetError {
  constructor(readonly host: string, readonly reason: string) {
    super(`rolled back: ${reason}`);
  }
}

/** Login could not be proven before any change: nothing was touched. */
export class LoginNotProvenError extends HardfleetError {}

export function rollbackScript(dir: string, paths: string[], extra: string[]): string {
  const restore = paths.map((p, i) =>
    `if [ -e ${shq(`${dir}/files/${i}`)} ]; then cp -a ${shq(`${dir}/files/${i}`)} ${shq(`${p}.hardfleet-rollback`)} && mv -f ${shq(`${p}.hardfleet-rollback`)} ${shq(p)}; else rm -f ${shq(p)}; fi`,
  );
  return [
    '#!/bin/sh',
    '# hardfleet rollback: restores what a guarded change replaced, unless the change was proven.',
    `d=${shq(dir)}`,
    '[ -e "$d/disarmed" ] && exit 0',
    'exec >>"$d/rollback.log" 2>&1',
    'echo "rollback started $(date)"',
    ...restore,
    ...extra,
    'touch "$d/rolled-back"',
    'echo "rollback done $(date)"',
    '',
  ].join('\n');
}

/** Shell that saves the files, writes the rollback script and arms it; prints nothing on success. */
export function armScript(dir: string, unit: string, paths: string[], extra: string[], windowSec: number, systemd: boolean): string {
  const save = paths.map((p, i) => `if [ -e ${shq(p)} ]; then cp -a ${shq(p)} "$d/files/${i}"; fi`);
  const arm = systemd
    ? // Timers fire up to a minute late by default: AccuracySec=1s keeps the window honest.
      `systemd-run --quiet --unit=${shq(unit)} --on-active=${windowSec}s --timer-property=AccuracySec=1s --description='hardfleet rollback' /bin/sh "$d/rollback.sh"`
    : `setsid sh -c 'sleep ${windowSec}; exec /bin/sh "$1/rollback.sh"' hardfleet-rollback "$d" </dev/null >/dev/null 2>&1 & echo $! > "$d/pid"`;
  return [
    'set -e',
    `d=${shq(dir)}`,
    'umask 077',
    'mkdir -p "$d/files"',
    ...save,
    // Quoted, not a here-document: a step's rollback may hold here-documents of its own, and one
    // with the same delimiter would end ours early and run the rest of the rollback right now.
    `printf '%s' ${shq(rollbackScript(dir, paths, extra))} > "$d/rollback.sh"`,
    arm,
  ].join('\n');
}

export function disarmScript(dir: string, unit: string, systemd: boolean): string {
  return [
    `d=${shq(dir)}`,
    'touch "$d/disarmed"',
    systemd ? `systemctl stop ${shq(`${unit}.timer`)} ${shq(`${unit}.service`)} 2>/dev/null || true` : '[ -e "$d/pid" ] && kill "$(cat "$d/pid")" 2>/dev/null || true',
    // A rollback that already ran (the window passed before the proof) must be reported, not hidden.
    'if [ -e "$d/rolled-back" ]; then echo rolled-back; else rm -rf "$d"; echo disarmed; fi',
  ].join('\n');
}

/**
 * Apply `changes` under the guard. Resolves when applied and proven, with the SSH port the last
 * proof used when the changes moved it; rejects with RolledBackError otherwise.
 */
export async function applyGuarded(host: string, stepId: string, changes: Change[], deps: GuardDeps): Promise<number | undefined> {
  deps.progress('proving a fresh admin login before the change');
  try {
    await deps.proveLogin();
  } catch (e) {
    throw new LoginNotProvenError(
      `a fresh login as the admin user did not work before ${stepId}: ${e instanceof Error ? e.message : String(e)}; nothing was changed, root and password login stay as they were`,
      'make sure the admin-user step ran and the admin key in the playbook vars matches admin_private_key_file',
    );
  }
  const token = `${stepId.replace(/[^a-z0-9]+/gi, '-')}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const dir = `${GUARD_ROOT}/${token}`;
  const unit = `hardfleet-rollback-${token}`;
  const paths = [...new Set(changes.flatMap((c) => c.backupPaths ?? []))];
  const extra = changes.map((c) => c.rollbackScript).filter((s): s is string => !!s);
  deps.progress(`arming on-host rollback (${deps.windowSec}s)`);
  const armed = await deps.main.exec(armScript(dir, unit, paths, extra, deps.windowSec, deps.systemd), { sudo: true, allowFailure: true });
  if (armed.code !== 0) throw new RemoteCommandError(armed, `arming the on-host rollback for ${stepId} (nothing was changed)`);
  const armedAt = Date.now();

  let failure: string | undefined;
  try {
    for (const c of changes) {
      deps.progress(c.summary);
      await c.apply(deps.main);
      await c.verify?.(deps.main);
      if (c.proveLoginOn !== undefined) await deps.proveLogin(c.proveLoginOn);
    }
    deps.progress('proving a fresh admin login after the change');
    await deps.proveLogin(lastPort(changes));
  } catch (e) {
    failure = e instanceof Error ? e.message : String(e);
  }

  if (failure === undefined) {
    const out = await deps.main.exec(disarmScript(dir, unit, deps.systemd), { sudo: true });
    if (out.stdout.trim() === 'rolled-back') {
      throw new RolledBackError(host, `the rollback window (${deps.windowSec}s) ended before the change was proven; raise guard_window`);
    }
    return lastPort(changes);
  }

  // The host restores itself at the end of the window: wait for it, then look.
  const waitMs = Math.max(0, armedAt + deps.windowSec * 1000 + 5000 - Date.now());
  deps.progress(`proof failed; waiting ${Math.ceil(waitMs / 1000)}s for the host to roll back`);
  await new Promise((r) => setTimeout(r, waitMs));
  let back: Remote | undefined;
  for (let attempt = 0; attempt < 12 && !back; attempt++) {
    try {
      back = await deps.reconnect();
    } catch {
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
  if (!back) {
    throw new HardfleetError(`${failure}; the host did not answer after its rollback window: check it on its console (rollback log ${dir}/rollback.log)`);
  }
  const seen = await back.exec(`test -e ${shq(`${dir}/rolled-back`)} && echo yes || echo no`, { sudo: true, allowFailure: true });
  if (seen.stdout.trim() !== 'yes') {
    throw new HardfleetError(`${failure}; the host answers again but its rollback did not record completion (${dir}/rollback.log)`);
  }
  throw new RolledBackError(host, failure);
}

function lastPort(changes: Change[]): number | undefined {
  return [...changes].reverse().find((c) => c.proveLoginOn !== undefined)?.proveLoginOn;
}
