/**
 * Machine-wide kernel limits that a fleet of full hosts outgrows. Every host runs its own systemd,
 * journald and dockerd, each holding inotify instances; the default of 128 per user runs out at
 * a dozen hosts and the next host's systemd dies with "Too many open files". The lab raises the
 * limits while labs are up, records what they were, and puts them back with the last lab down.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LABS_ROOT } from './state.js';

export const LIMITS: Record<string, number> = {
  '/proc/sys/fs/inotify/max_user_instances': 8192,
  '/proc/sys/fs/inotify/max_user_watches': 1048576,
};

const SAVED = join(dirname(LABS_ROOT), 'sysctl-before-labs.json');

/** Only raises, never lowers; the first raise records the value it found. */
export function raiseLimits(limits = LIMITS, saved = SAVED): string[] {
  const before: Record<string, number> = existsSync(saved) ? JSON.parse(readFileSync(saved, 'utf8')) : {};
  const raised: string[] = [];
  for (const [path, want] of Object.entries(limits)) {
    const now = Number(readFileSync(path, 'utf8').trim());
    if (now >= want) continue;
    before[path] ??= now;
    writeFileSync(saved, JSON.stringify(before, null, 2) + '\n', { mode: 0o600 });
    writeFileSync(path, `${want}\n`);
    raised.push(`${path.replace('/proc/sys/', '').replace(/\//g, '.')} ${now} -> ${want}`);
  }
  return raised;
}

/** Puts back what raiseLimits found (the last lab is gone). */
export function restoreLimits(saved = SAVED): void {
  if (!existsSync(saved)) return;
  const before = JSON.parse(readFileSync(saved, 'utf8')) as Record<string, number>;
  for (const [path, value] of Object.entries(before)) {
    try {
      writeFileSync(path, `${value}\n`);
    } catch {
      // a limit that cannot be written back is left raised: harmless, and better than failing the down
    }
  }
  rmSync(saved);
}
