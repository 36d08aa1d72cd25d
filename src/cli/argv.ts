/** Command-line words as the operator typed them, made fit for yargs. */
import { UsageError } from '../core/errors.js';

/** Options whose value may be `-` (stdout). */
const DASH_VALUED = new Set(['--json']);

/**
 * yargs never takes a lone `-` as an option's value: `--json -` would leave `-` behind as a
 * positional (a host pattern, or an "Unknown argument" under strict). Join it to its option,
 * as `--json=-`. Words after `--` belong to the remote command and are left alone.
 */
export function joinDashValues(words: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '--') return out.concat(words.slice(i));
    if (DASH_VALUED.has(w) && words[i + 1] === '-') {
      out.push(`${w}=-`);
      i++;
    } else {
      out.push(w);
    }
  }
  return out;
}

/** How a command's flags are read once yargs has parsed them. */
export interface FlagRules {
  /** Flags that may be repeated; `commas` also splits each value (`--tags ssh,firewall`). */
  lists?: Record<string, { commas: boolean }>;
  /** Flags that hold a number: left untyped for yargs, so that a typo is echoed, not read as NaN. */
  numbers?: string[];
  /** Positional arguments, by what they are called in messages. */
  positionals?: Record<string, string>;
}

/**
 * Check and normalise parsed flags in place. yargs turns any repeated flag into an array, and an
 * `array: true` flag swallows every word after it (`-i inv.yml web1` read web1 as an inventory),
 * so list flags are plain flags collected here. Every other flag must be given once, and no value
 * may be empty: `--limit "$HOSTS"` with HOSTS unset must not widen a run to every host.
 */
export function checkFlags(a: Record<string, unknown>, rules: FlagRules): void {
  const lists = rules.lists ?? {};
  const numbers = new Set(rules.numbers ?? []);
  // yargs also sets each flag under its aliases and camelCase name: read the kebab-case one.
  const flags = Object.keys(a).filter((k) => !['_', '$0', '--'].includes(k) && k.length > 1 && !/[A-Z]/.test(k));
  for (const k of flags) {
    const v = a[k];
    if (v === undefined) continue;
    if (k in lists) {
      const items = ([] as unknown[]).concat(v).map(String);
      const values = lists[k]!.commas ? items.flatMap((s) => s.split(',')).map((s) => s.trim()) : items;
      if (values.some((s) => s.trim() === '')) throw new UsageError(`--${k} ${JSON.stringify(items.join(' '))}: an empty value`, undefined, undefined, `give --${k} a value each time it is used`);
      a[k] = values;
      continue;
    }
    if (Array.isArray(v)) {
      throw new UsageError(`--${k} given ${v.length} times (${v.join(', ')})`, undefined, undefined, k === 'limit' ? 'give it once; several patterns go comma separated: --limit web1,web2' : 'give it once');
    }
    if (typeof v === 'string' && v.trim() === '') {
      const what = rules.positionals?.[k];
      if (what) throw new UsageError(`${what} is empty`, undefined, undefined, what === 'the host pattern' ? 'leave it out (or write all) to select every host' : undefined);
      throw new UsageError(`--${k} is empty`, undefined, undefined, k === 'limit' ? 'leave --limit out to select every host' : `give --${k} a value`);
    }
    if (numbers.has(k)) a[k] = number(k, v);
  }
}

function number(flag: string, v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\s*-?(\d+\.?\d*|\.\d+)\s*$/.test(v)) return Number(v);
  throw new UsageError(`--${flag} ${JSON.stringify(v)}: not a number`);
}
