/**
 * Rolling batches, with Ansible's `serial`: a number, a percentage of the selected hosts
 * ("30%", rounded down, at least 1) or a list of those whose last entry repeats. Without
 * `serial` a run starts with one canary host, then goes `forks` hosts at a time. A host
 * tagged `canary` always goes first: that is what the tag is for.
 */
import { PlaybookError, UsageError } from '../core/errors.js';

export type SerialSpec = number | string | Array<number | string>;

/** Where a serial value came from: a CLI flag ("--serial") or a playbook position. */
export type SerialSource = string | { file: string; line?: number };

const ENTRY = /^(?:(\d+)|(\d+(?:\.\d+)?)%)$/;

/**
 * Validate a serial value from a playbook or the command line ("1,5,25%" is a list there).
 * Returns numbers and "N%" strings only.
 */
export function parseSerial(value: unknown, where: SerialSource): SerialSpec {
  const fail = (why: string): never => {
    const hint = 'serial is a number of hosts (5), a percentage of them ("30%"), or a list of those whose last entry repeats ([1, 5, "25%"])';
    if (typeof where === 'string') throw new UsageError(`${where}: ${why}`, undefined, undefined, hint);
    throw new PlaybookError(`serial: ${why}`, where.file, where.line, hint);
  };
  const entry = (v: unknown): number | string => {
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < 1) fail(`${v} is not a positive whole number of hosts`);
      return v;
    }
    if (typeof v !== 'string') return fail(`${JSON.stringify(v)} is neither a number nor a percentage`);
    const s = v.trim();
    const m = ENTRY.exec(s);
    if (!m) return fail(`"${v}" is neither a number nor a percentage`);
    if (m[1] !== undefined) {
      const n = Number(m[1]);
      if (n < 1) fail(`${n} hosts per batch would never finish`);
      return n;
    }
    const pct = Number(m[2]);
    if (pct <= 0 || pct > 100) fail(`"${v}" is not a percentage from 0 to 100`);
    return s;
  };
  if (typeof value === 'string' && value.includes(',')) value = value.split(',');
  if (Array.isArray(value)) {
    if (!value.length) fail('an empty list');
    return value.map(entry);
  }
  return entry(value);
}

/** Batch sizes for `total` hosts. */
export function batchSizes(total: number, serial: SerialSpec | undefined, forks: number): number[] {
  if (!Number.isInteger(forks) || forks < 1) throw new UsageError(`--forks ${forks}: must be a whole number of at least 1`);
  const spec = serial === undefined ? [1, forks] : ([] as Array<number | string>).concat(parseSerial(serial, 'serial'));
  const sizes: number[] = [];
  let left = total;
  for (let i = 0; left > 0; i++) {
    const e = spec[Math.min(i, spec.length - 1)];
    const size = typeof e === 'number' ? e : Math.floor((total * Number(e.slice(0, -1))) / 100);
    const n = Math.min(Math.max(size, 1), left);
    sizes.push(n);
    left -= n;
  }
  return sizes;
}

/** Split hosts into batches, a host tagged `canary` first. */
export function batches<T>(hosts: T[], serial: SerialSpec | undefined, forks: number): T[][] {
  const canary = hosts.findIndex(isCanary);
  const ordered = canary > 0 ? [hosts[canary], ...hosts.slice(0, canary), ...hosts.slice(canary + 1)] : [...hosts];
  const out: T[][] = [];
  let at = 0;
  for (const n of batchSizes(ordered.length, serial, forks)) {
    out.push(ordered.slice(at, at + n));
    at += n;
  }
  return out;
}

function isCanary(host: unknown): boolean {
  const tags = (host as { tags?: unknown } | null)?.tags;
  return Array.isArray(tags) && tags.includes('canary');
}
