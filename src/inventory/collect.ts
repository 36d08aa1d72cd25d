/**
 * First pass over inventory files: walk Ansible's YAML layout (top-level groups, each with
 * hosts, children and vars), validate every group and vars map where it is written, and collect
 * groups and hosts with the place each thing came from. Several files merge as in Ansible.
 */
import { readInputFile } from '../core/files.js';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import { InventoryError } from '../core/errors.js';
import { expandHostRange } from './host-range.js';
import { connOf, groupSchema, varsSchema, type Conn } from './schema.js';
import { expandHome } from './ssh-config.js';
import { schemaWords } from '../core/schema-words.js';
import { parseYaml, YamlSyntaxError, type YamlDocument, type YamlPath } from './yaml-lines.js';

export interface Site {
  file: string;
  line?: number;
}

/** One vars map: a group's `vars:` or a host entry. */
export interface VarLayer {
  vars: Record<string, unknown>;
  conn: Conn;
  /** Where each connection setting was written. */
  connSites: Partial<Record<keyof Conn, Site>>;
  site: Site;
}

export interface RawGroup {
  name: string;
  hosts: string[];
  children: string[];
  /** Where each child is named, to point at the edge that closes a cycle. */
  childSites: Map<string, Site>;
  vars: VarLayer[];
  /** Where the group has a body; a group only ever named with an empty value has none. */
  defined?: Site;
  /** Where it was first named. */
  site: Site;
}

export interface RawHost {
  name: string;
  /** Host entries in the order they were read; later ones win. */
  vars: VarLayer[];
  site: Site;
  order: [number, number];
}

export interface Collected {
  groups: Map<string, RawGroup>;
  hosts: Map<string, RawHost>;
}

export function collect(files: string[]): Collected {
  const out: Collected = { groups: new Map(), hosts: new Map() };
  group(out, 'all', { file: files[0] ?? '' }).defined = { file: files[0] ?? '' };
  files.forEach((file, index) => collectFile(out, file, index));
  return out;
}

function collectFile(out: Collected, file: string, fileIndex: number): void {
  let text: string;
  try {
    text = readInputFile(file);
  } catch (e) {
    throw new InventoryError(`cannot read inventory: ${(e as Error).message}`, file);
  }
  // Ansible's other layout: `[web]` on a line of its own reads as a YAML list and fails obscurely.
  const ini = /^\s*\[[^\]\s:]+(:\w+)?\]\s*$/m.exec(text);
  if (ini && !/^\s*\w[^:]*:\s*$/m.test(text.slice(0, ini.index))) {
    throw new InventoryError(
      `an INI inventory (${ini[0].trim()}): hardfleet reads Ansible's YAML layout`,
      file,
      text.slice(0, ini.index).split('\n').length,
      `convert it with: ansible-inventory -i ${file} --list -y > inventory.yml`,
    );
  }
  let doc: YamlDocument;
  try {
    doc = parseYaml(text);
  } catch (e) {
    if (e instanceof YamlSyntaxError) throw new InventoryError(e.message, file, e.line, e.hint);
    throw e;
  }
  if (doc.data === null || doc.data === undefined) return;
  if (typeof doc.data !== 'object' || Array.isArray(doc.data)) {
    throw new InventoryError('an inventory must be a mapping of groups, usually starting with `all:`', file, doc.lineOf([]));
  }
  const walker = new Walker(out, file, fileIndex, doc);
  for (const [name, body] of Object.entries(doc.data)) {
    if (name !== 'all') addChild(out, 'all', name, { file, line: doc.lineOf([name]) });
    walker.group(name, body, [name]);
  }
}

class Walker {
  private readonly dir: string;
  constructor(
    private readonly out: Collected,
    private readonly file: string,
    private readonly fileIndex: number,
    private readonly doc: YamlDocument,
  ) {
    this.dir = dirname(resolve(file));
  }

  private site(path: YamlPath): Site {
    return { file: this.file, line: this.doc.lineOf(path) };
  }

  group(name: string, body: unknown, path: YamlPath): void {
    const g = group(this.out, name, this.site(path));
    if (body === null || body === undefined) return;
    const parsed = groupSchema.safeParse(body, { error: schemaWords });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      if (issue.code === 'unrecognized_keys') {
        const key = issue.keys[0];
        throw new InventoryError(
          `group "${name}": unknown key "${key}"`,
          this.file,
          this.doc.lineOf([...path, key]),
          'a group holds only hosts:, children: and vars:; put variables under vars:',
        );
      }
      throw this.issueError(`group "${name}"`, issue, path);
    }
    g.defined ??= this.site(path);
    const { hosts, children, vars } = parsed.data;
    for (const [key, hostVars] of Object.entries(hosts ?? {})) this.host(g, key, hostVars, [...path, 'hosts', key]);
    for (const [child, childBody] of Object.entries(children ?? {})) {
      addChild(this.out, name, child, this.site([...path, 'children', child]));
      this.group(child, childBody, [...path, 'children', child]);
    }
    if (vars) g.vars.push(this.layer(vars, [...path, 'vars'], `group "${name}" vars`));
  }

  private host(g: RawGroup, key: string, body: unknown, path: YamlPath): void {
    const names = expandHostRange(key);
    if (!names) throw new InventoryError(`host range "${key}" is malformed`, this.file, this.doc.lineOf(path), 'write a range as [01:10], [a:f] or [1:9:2]');
    const layer = body === null || body === undefined ? undefined : this.layer(body, path, `host "${key}"`);
    for (const name of names) {
      let h = this.out.hosts.get(name);
      if (!h) {
        h = { name, vars: [], site: this.site(path), order: [this.fileIndex, this.doc.lineOf(path) ?? 0] };
        this.out.hosts.set(name, h);
      }
      if (layer) h.vars.push(layer);
      if (!g.hosts.includes(name)) g.hosts.push(name);
    }
  }

  private layer(body: unknown, path: YamlPath, what: string): VarLayer {
    const parsed = varsSchema.safeParse(body, { error: schemaWords });
    if (!parsed.success) throw this.issueError(what, parsed.error.issues[0], path);
    const vars = parsed.data;
    const { conn, keys } = connOf(vars, (p) => {
      const full = expandHome(p);
      return isAbsolute(full) ? full : resolve(this.dir, full);
    });
    const connSites: VarLayer['connSites'] = {};
    for (const [field, key] of Object.entries(keys) as Array<[keyof Conn, string]>) connSites[field] = this.site([...path, key]);
    return { vars, conn, connSites, site: this.site(path) };
  }

  private issueError(what: string, issue: z.core.$ZodIssue, path: YamlPath): InventoryError {
    const at = [...path, ...(issue.path as Array<string | number>)];
    const key = issue.path.length ? `${issue.path.join('.')}: ` : '';
    const message = issue.message.startsWith(String(issue.path[0] ?? '\0')) ? issue.message : `${key}${issue.message}`;
    const unsafe = /shell would interpret/.test(issue.message);
    return new InventoryError(
      `${what}: ${message}`,
      this.file,
      this.doc.lineOf(at),
      unsafe ? 'write the plain address or user name: no quotes, spaces, ; | $ ` or other shell syntax' : undefined,
    );
  }
}

function group(out: Collected, name: string, site: Site): RawGroup {
  let g = out.groups.get(name);
  if (!g) {
    g = { name, hosts: [], children: [], childSites: new Map(), vars: [], site };
    out.groups.set(name, g);
  }
  return g;
}

function addChild(out: Collected, parent: string, child: string, site: Site): void {
  const p = group(out, parent, site);
  group(out, child, site);
  if (!p.children.includes(child)) {
    p.children.push(child);
    p.childSites.set(child, site);
  }
}
