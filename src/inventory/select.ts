/**
 * Which hosts a run touches: `--limit` patterns as in Ansible (names, globs, groups, `!` to
 * exclude, `&` to intersect, `~` for a regex, comma or colon lists), `--tag` (every tag given
 * must be on the host; group names count as tags) and `--exclude`. A term that matches nothing
 * is an error rather than a warning: a typo must not widen or silently shrink a hardening run.
 */
import { UsageError } from '../core/errors.js';
import type { HostSpec } from '../core/host.js';
import type { Inventory } from './load.js';

export interface SelectOptions {
  /** The play's or the command's own host pattern (`hosts:` of a playbook, `run PATTERN`). */
  pattern?: string;
  /** How errors name the pattern, e.g. "pb.yml: hosts:"; default "the host pattern". */
  patternLabel?: string;
  /** Narrows the pattern, as Ansible's --limit does: never adds a host the pattern left out. */
  limit?: string;
  tags?: string[];
  exclude?: string[];
}

/** The selected hosts, in inventory order. */
export function selectHosts(inv: Inventory, opts: SelectOptions = {}): HostSpec[] {
  let chosen = new Set(inv.hosts.map((h) => h.name));
  if (opts.pattern !== undefined && opts.pattern.trim() !== '' && opts.pattern.trim() !== 'all') {
    chosen = patternHosts(inv, opts.pattern, opts.patternLabel ?? 'the host pattern');
  }
  if (opts.limit !== undefined && opts.limit.trim() !== '') {
    const keep = patternHosts(inv, opts.limit, '--limit');
    chosen = new Set([...chosen].filter((n) => keep.has(n)));
  }

  const tags = (opts.tags ?? []).flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
  const known = allTags(inv);
  for (const t of tags) {
    if (!known.has(t)) throw new UsageError(`--tag ${t}: no host has this tag and no group has this name`, undefined, undefined, available(inv));
  }
  const byName = new Map(inv.hosts.map((h) => [h.name, h]));
  if (tags.length) chosen = new Set([...chosen].filter((n) => tags.every((t) => byName.get(n)!.tags.includes(t))));

  for (const pattern of opts.exclude ?? []) {
    for (const t of splitPatterns(pattern)) for (const n of match(inv, t.replace(/^!/, ''), '--exclude')) chosen.delete(n);
  }

  const selected = inv.hosts.filter((h) => chosen.has(h.name));
  if (!selected.length) {
    const asked = [
      opts.pattern && opts.pattern.trim() !== 'all' ? `${opts.patternLabel ?? 'the host pattern'} ${opts.pattern}` : '',
      opts.limit ? `--limit ${opts.limit}` : '',
      ...tags.map((t) => `--tag ${t}`),
      ...(opts.exclude ?? []).map((e) => `--exclude ${e}`),
    ].filter(Boolean);
    if (!inv.hosts.length) {
      throw new UsageError(`no host selected: ${inv.files.join(', ')} ${inv.files.length > 1 ? 'hold' : 'holds'} no host`, undefined, undefined, 'list hosts under all: hosts:, e.g. all: { hosts: { web1: { ansible_host: 192.0.2.10 } } }');
    }
    throw new UsageError(`no host selected by ${asked.join(' ')}`, undefined, undefined, available(inv));
  }
  return selected;
}

/** An Ansible pattern: the union of its plain terms (all hosts when none), `&` terms intersect, `!` terms remove. */
function patternHosts(inv: Inventory, text: string, label: string): Set<string> {
  const terms = splitPatterns(text);
  const positive = terms.filter((t) => !/^[!&]/.test(t));
  let chosen = new Set(inv.hosts.map((h) => h.name));
  if (positive.length) {
    chosen = new Set();
    for (const t of positive) for (const n of match(inv, t, label)) chosen.add(n);
  }
  for (const t of terms.filter((x) => x.startsWith('&'))) {
    const keep = match(inv, t.slice(1), label);
    chosen = new Set([...chosen].filter((n) => keep.has(n)));
  }
  for (const t of terms.filter((x) => x.startsWith('!'))) for (const n of match(inv, t.slice(1), label)) chosen.delete(n);
  return chosen;
}

/** Ansible splits on commas, or on colons when there are none (host ranges keep theirs). */
function splitPatterns(text: string): string[] {
  const parts = text.includes(',') ? text.split(',') : text.includes('[') || text.startsWith('~') ? [text] : text.split(':');
  return parts.map((p) => p.trim()).filter(Boolean);
}

/** Hosts a term names: hosts by name, groups by name (their hosts, transitively), globs or `~regex` over both. */
function match(inv: Inventory, term: string, flag: string): Set<string> {
  if (inv.groups[term] && term !== 'all' && inv.hosts.some((h) => h.name === term)) {
    // Ansible warns and takes both; a hardening run must not widen on a name.
    throw new UsageError(`${flag} ${term}: names both a host and a group of the inventory`, undefined, undefined, 'rename the host or the group so that each name means one thing');
  }
  const test = matcher(term, flag);
  const out = new Set<string>();
  const groups = Object.keys(inv.groups).filter(test);
  for (const h of inv.hosts) {
    if (test(h.name) || groups.includes('all') || groups.some((g) => h.groups.includes(g) || inv.groups[g].hosts.includes(h.name))) out.add(h.name);
  }
  if (!out.size) throw new UsageError(`${flag} ${term}: matches no host and no group`, undefined, undefined, available(inv));
  return out;
}

function matcher(term: string, flag: string): (name: string) => boolean {
  if (term.startsWith('~')) {
    let re: RegExp;
    try {
      re = new RegExp(term.slice(1));
    } catch (e) {
      throw new UsageError(`${flag} ${term}: ${(e as Error).message}`);
    }
    return (name) => re.test(name);
  }
  if (!/[*?[]/.test(term)) return (name) => name === term;
  const re = new RegExp(`^${term.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return (name) => re.test(name);
}

function allTags(inv: Inventory): Set<string> {
  return new Set([...Object.keys(inv.groups), ...inv.hosts.flatMap((h) => h.tags)]);
}

/** What the operator could have asked for. */
function available(inv: Inventory): string {
  const groups = Object.keys(inv.groups).filter((g) => g !== 'all');
  const tags = [...new Set(inv.hosts.flatMap((h) => h.tags))].filter((t) => !inv.groups[t]);
  const names = inv.hosts.slice(0, 5).map((h) => h.name);
  const more = inv.hosts.length > names.length ? `, … (${inv.hosts.length} hosts)` : '';
  return [
    `groups: ${groups.join(', ') || '(none)'}`,
    `tags: ${tags.join(', ') || '(none)'}`,
    `hosts: ${names.join(', ') || '(none)'}${more}`,
  ].join('; ');
}
