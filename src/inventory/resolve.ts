/**
 * Second pass: check the group graph (undefined groups, cycles), merge each host's variables
 * (host > child group > parent group > all, groups of equal depth by name as in Ansible), add
 * what ssh_config says, and link jump hosts.
 */
import { statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { InventoryError } from '../core/errors.js';
import type { HostSpec } from '../core/host.js';
import type { Collected, RawGroup, RawHost, Site } from './collect.js';
import { SAFE_WORD, type Conn } from './schema.js';
import { expandHome, type SshConfig } from './ssh-config.js';

const IMPLICIT = new Set(['all', 'ungrouped']);

export function checkGroups(c: Collected): void {
  for (const g of c.groups.values()) {
    if (!g.defined && !IMPLICIT.has(g.name)) {
      throw new InventoryError(
        `group "${g.name}" is named but defined nowhere (no hosts, children or vars)`,
        g.site.file,
        g.site.line,
        `check the spelling against the groups defined: ${[...c.groups.values()].filter((x) => x.defined).map((x) => x.name).join(', ')}; write "${g.name}: {}" for a group meant to be empty`,
      );
    }
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (g: RawGroup, trail: string[]): void => {
    state.set(g.name, 'visiting');
    for (const child of g.children) {
      const s = state.get(child);
      if (s === 'visiting') {
        const site = g.childSites.get(child);
        const loop = [...trail.slice(trail.indexOf(child)), g.name, child].join(' -> ');
        throw new InventoryError(`group cycle: ${loop}`, site?.file, site?.line, 'a group cannot be its own ancestor: remove one of these children: entries');
      }
      if (!s) visit(c.groups.get(child)!, [...trail, g.name]);
    }
    state.set(g.name, 'done');
  };
  for (const g of c.groups.values()) if (!state.has(g.name)) visit(g, []);
}

/** Depth of each group below `all` (the longest path, as Ansible orders group vars). */
function depths(c: Collected): Map<string, number> {
  const depth = new Map<string, number>([['all', 0]]);
  const walk = (name: string, d: number) => {
    if ((depth.get(name) ?? -1) >= d && name !== 'all') return;
    depth.set(name, d);
    for (const child of c.groups.get(name)?.children ?? []) walk(child, d + 1);
  };
  walk('all', 0);
  return depth;
}

interface Merged {
  vars: Record<string, unknown>;
  conn: Conn;
  sites: Partial<Record<keyof Conn, Site>>;
  groups: string[];
}

function merge(c: Collected, host: RawHost, depth: Map<string, number>, parents: Map<string, string[]>): Merged {
  const member = new Set<string>();
  const up = (g: string) => {
    if (member.has(g)) return;
    member.add(g);
    for (const p of parents.get(g) ?? []) up(p);
  };
  for (const g of c.groups.values()) if (g.hosts.includes(host.name)) up(g.name);
  up('all');
  const ordered = [...member].sort((a, b) => (depth.get(a) ?? 0) - (depth.get(b) ?? 0) || (a === b ? 0 : a < b ? -1 : 1));
  const layers = [...ordered.flatMap((g) => c.groups.get(g)!.vars), ...host.vars];
  const out: Merged = { vars: {}, conn: {}, sites: {}, groups: [] };
  for (const l of layers) {
    Object.assign(out.vars, l.vars);
    Object.assign(out.conn, l.conn);
    Object.assign(out.sites, l.connSites);
  }
  // Groups in inventory order, as the operator wrote them.
  out.groups = [...c.groups.keys()].filter((g) => member.has(g) && !IMPLICIT.has(g));
  return out;
}

export interface Resolved {
  hosts: HostSpec[];
  groups: Record<string, { hosts: string[]; children: string[] }>;
}

export function resolveHosts(c: Collected, ssh: SshConfig): Resolved {
  checkGroups(c);
  const depth = depths(c);
  const parents = new Map<string, string[]>();
  for (const g of c.groups.values()) for (const child of g.children) parents.set(child, [...(parents.get(child) ?? []), g.name]);

  const raw = [...c.hosts.values()].sort((a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1]);
  const specs = new Map<string, HostSpec>();
  const jumps = new Map<string, JumpRef>();
  for (const h of raw) {
    const m = merge(c, h, depth, parents);
    const cfg = ssh.lookup(m.conn.address ?? h.name);
    const user = m.conn.user ?? cfg.user ?? 'root';
    const spec: HostSpec = {
      name: h.name,
      address: m.conn.address ?? cfg.hostName ?? h.name,
      port: m.conn.port ?? cfg.port ?? 22,
      user,
      identityFiles: m.conn.identityFiles ?? cfg.identityFiles ?? [],
      knownHostsFiles: m.conn.knownHostsFiles ?? cfg.knownHostsFiles ?? [expandHome('~/.ssh/known_hosts')],
      become: m.conn.become ?? user !== 'root',
      tags: [...new Set([...(m.conn.tags ?? []), ...m.groups])],
      groups: m.groups,
      vars: m.vars,
      source: h.site,
    };
    checkSafe(spec, 'address', m.conn.address ? m.sites.address : cfg.hostName ? { file: ssh.file ?? '' } : h.site);
    checkSafe(spec, 'user', m.conn.user ? m.sites.user : { file: ssh.file ?? '' });
    checkFiles(spec, 'identityFiles', m.conn.identityFiles ? m.sites.identityFiles : undefined);
    checkFiles(spec, 'knownHostsFiles', m.conn.knownHostsFiles ? m.sites.knownHostsFiles : undefined);
    specs.set(h.name, spec);
    if (m.conn.jump) jumps.set(h.name, { to: [m.conn.jump], site: m.sites.jump ?? h.site, fromSsh: false });
    else if (cfg.proxyJump) jumps.set(h.name, { to: cfg.proxyJump, site: { file: ssh.file ?? '' }, fromSsh: true });
  }
  new JumpLinker(specs, jumps, ssh).linkAll();

  const groups: Resolved['groups'] = {};
  for (const g of c.groups.values()) groups[g.name] = { hosts: [...g.hosts], children: [...g.children] };
  const ungrouped = raw.filter((h) => !specs.get(h.name)!.groups.length).map((h) => h.name);
  if (ungrouped.length) {
    groups.ungrouped = { hosts: ungrouped, children: [] };
    if (!groups.all.children.includes('ungrouped')) groups.all.children.push('ungrouped');
  }
  return { hosts: raw.map((h) => specs.get(h.name)!), groups };
}

function checkSafe(spec: HostSpec, field: 'address' | 'user', site: Site | undefined): void {
  const value = spec[field];
  if (SAFE_WORD.test(value)) return;
  throw new InventoryError(
    `host "${spec.name}": ${field} ${JSON.stringify(value)} holds characters a shell would interpret`,
    site?.file,
    site?.line,
    'write the plain address or user name: only letters, digits and . _ : @ % - are allowed',
  );
}

/** A key or known_hosts path that names a directory can never work: say so where it is written (a missing file may be made later). */
function checkFiles(spec: HostSpec, field: 'identityFiles' | 'knownHostsFiles', site: Site | undefined): void {
  if (!site) return;
  for (const file of spec[field]) {
    if (!statSync(file, { throwIfNoEntry: false })?.isDirectory()) continue;
    const what = field === 'identityFiles' ? 'identity file' : 'known_hosts file';
    throw new InventoryError(`host "${spec.name}": ${what} ${file} is a directory`, site.file, site.line, `name the file itself, e.g. ${join(file, field === 'identityFiles' ? 'id_ed25519' : 'known_hosts')}`);
  }
}

interface JumpRef {
  to: string[];
  site: Site;
  /** Hops from ssh_config's ProxyJump may name any host; an inventory `jump` must name a known one. */
  fromSsh: boolean;
}

/** Turns jump names (inventory hosts, ssh_config aliases, ProxyJump hops) into HostSpec chains. */
class JumpLinker {
  private readonly linking = new Set<string>();
  private readonly linked = new Set<string>();
  private readonly aliases = new Map<string, { spec: HostSpec; ref?: JumpRef }>();

  constructor(
    private readonly specs: Map<string, HostSpec>,
    private readonly jumps: Map<string, JumpRef>,
    private readonly ssh: SshConfig,
  ) {}

  linkAll(): void {
    for (const [name, spec] of this.specs) this.link(name, spec, this.jumps.get(name), [name]);
  }

  private link(key: string, spec: HostSpec, ref: JumpRef | undefined, trail: string[]): HostSpec {
    if (this.linked.has(key)) return spec;
    this.linking.add(key);
    if (ref) spec.jump = this.chain(ref, spec.name, trail);
    this.linking.delete(key);
    this.linked.add(key);
    return spec;
  }

  /** ProxyJump a,b: b is reached through a; only the first hop keeps its own route. */
  private chain(ref: JumpRef, from: string, trail: string[]): HostSpec {
    let previous: HostSpec | undefined;
    for (const hop of ref.to) {
      const next = this.hop(hop, ref, from, trail);
      previous = previous ? { ...next, jump: previous } : next;
    }
    return previous!;
  }

  private hop(hop: string, ref: JumpRef, from: string, trail: string[]): HostSpec {
    const m = /^(?:ssh:\/\/)?(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hop);
    const user = m?.[1];
    const host = m?.[2]?.replace(/^\[|\]$/g, '') ?? hop;
    const port = m?.[3] ? Number(m[3]) : undefined;
    const inventoryHost = !user && !port ? this.specs.get(host) : undefined;
    const key = inventoryHost ? host : `ssh_config:${hop}`;
    if (this.linking.has(key)) {
      throw new InventoryError(`jump cycle: ${[...trail, host].join(' -> ')}`, ref.site.file, ref.site.line, 'a host cannot be reached through itself');
    }
    if (inventoryHost) return this.link(key, inventoryHost, this.jumps.get(host), [...trail, host]);
    if (!ref.fromSsh && !this.ssh.knows(host)) {
      throw new InventoryError(
        `host "${from}": jump "${hop}" is neither an inventory host nor a Host in ssh_config`,
        ref.site.file,
        ref.site.line,
        `add "${hop}" to the inventory (any group will do) or to your ssh_config, or fix the name`,
      );
    }
    let alias = this.aliases.get(key);
    if (!alias) {
      alias = this.aliasSpec(host, user, port);
      this.aliases.set(key, alias);
    }
    return this.link(key, alias.spec, alias.ref, [...trail, host]);
  }

  private aliasSpec(host: string, user: string | undefined, port: number | undefined): { spec: HostSpec; ref?: JumpRef } {
    const cfg = this.ssh.lookup(host);
    const source = { file: this.ssh.file ?? '' };
    const spec: HostSpec = {
      name: host,
      address: cfg.hostName ?? host,
      port: port ?? cfg.port ?? 22,
      // Like OpenSSH: a host known only to ssh_config defaults to the local user.
      user: user ?? cfg.user ?? userInfo().username,
      identityFiles: cfg.identityFiles ?? [],
      knownHostsFiles: cfg.knownHostsFiles ?? [expandHome('~/.ssh/known_hosts')],
      become: false,
      tags: [],
      groups: [],
      vars: {},
      source,
    };
    checkSafe(spec, 'address', source);
    checkSafe(spec, 'user', source);
    return { spec, ref: cfg.proxyJump ? { to: cfg.proxyJump, site: source, fromSsh: true } : undefined };
  }
}
