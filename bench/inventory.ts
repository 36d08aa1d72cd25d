/**
 * One inventory per scenario, read by both tools: the lab's own (Ansible's YAML layout, which
 * hardfleet reads unchanged), cut to the first N hosts; after hardening, the same hosts reached
 * as the admin user with sudo, since root login is off.
 */
import { load, dump } from 'js-yaml';

interface Group {
  vars?: Record<string, unknown>;
  hosts?: Record<string, Record<string, unknown> | null>;
  children?: Record<string, Group | null>;
}

export interface BenchHost {
  name: string;
  address: string;
}

export interface LabInventory {
  /** The lab's connection vars (ansible_user, key, known_hosts, admin_*...). */
  vars: Record<string, unknown>;
  hosts: Array<BenchHost & { vars: Record<string, unknown> }>;
}

export function parseLabInventory(text: string): LabInventory {
  const doc = load(text) as { all: Group };
  const children = doc.all.children ?? {};
  let vars: Record<string, unknown> = { ...(doc.all.vars ?? {}) };
  const hosts: LabInventory['hosts'] = [];
  for (const g of Object.values(children)) {
    if (!g) continue;
    if (g.vars) vars = { ...vars, ...g.vars };
    for (const [name, hv] of Object.entries(g.hosts ?? {})) {
      const h = { ...(hv ?? {}) };
      if (typeof h.ansible_host !== 'string') throw new Error(`host ${name} has no ansible_host`);
      hosts.push({ name, address: h.ansible_host, vars: h });
    }
  }
  return { vars, hosts };
}

/** The first `n` hosts, optionally reached as the admin user (after hardening). */
export function benchInventory(lab: LabInventory, n: number, as: 'root' | 'admin'): string {
  if (n > lab.hosts.length) throw new Error(`the lab has ${lab.hosts.length} hosts, not ${n}`);
  const vars = { ...lab.vars };
  if (as === 'admin') {
    vars.ansible_user = vars.admin_user;
    vars.ansible_ssh_private_key_file = vars.admin_private_key_file;
    vars.ansible_become = true;
  }
  const hosts: Record<string, Record<string, unknown>> = {};
  for (const h of lab.hosts.slice(0, n)) {
    // `tags` is a reserved word for Ansible (it warns on every host); the bench selects no tags.
    const hv = { ...h.vars };
    delete hv.tags;
    hosts[h.name] = hv;
  }
  return `# Written by hardfleet's bench: ${n} hosts of the lab, as ${as}; read by hardfleet and Ansible alike.\n${dump({ all: { vars, hosts } }, { lineWidth: 200 })}`;
}
