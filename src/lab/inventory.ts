/** The inventory `lab up` writes: Ansible's layout, so the tool, Ansible and OpenSSH all use it. */
import { dump } from 'js-yaml';
import type { LabState } from './state.js';

export const INVENTORY_HEADER = '# Written by `hardfleet lab up`';

export interface LabInventoryFiles {
  operatorKey: string;
  adminKey: string;
  adminPublicKey: string;
  adminUser: string;
  knownHosts: string;
}

/** The group holding every host of lab `name`, and the lab's connection vars. */
export function labGroup(name: string): string {
  return `lab_${name.replace(/-/g, '_')}`;
}

export function labInventory(state: LabState, f: LabInventoryFiles): string {
  const groups: Record<string, { hosts: Record<string, Record<string, unknown>> }> = {};
  for (const h of state.hosts) {
    for (const g of h.groups) {
      groups[g] ??= { hosts: {} };
      const vars: Record<string, unknown> = { ansible_host: h.ipv4, address6: h.ipv6, lab_kind: h.kind };
      if (h.tags.length) vars.tags = h.tags;
      groups[g].hosts[h.name] = vars;
    }
  }
  // The lab's connection vars live on a group of its own, parent of the lab's groups, not on
  // `all`: `all` is one group across inventory files (as in Ansible), so with `-i a.yml -i b.yml`
  // the second lab's key and known_hosts would be used for the first lab's hosts too.
  const doc = {
    all: {
      children: {
        [labGroup(state.name)]: {
          vars: {
            ansible_user: 'root',
            ansible_ssh_private_key_file: f.operatorKey,
            known_hosts: f.knownHosts,
            ansible_ssh_common_args: `-o UserKnownHostsFile=${f.knownHosts} -o StrictHostKeyChecking=yes`,
            lab_name: state.name,
            admin_user: f.adminUser,
            admin_keys: [f.adminPublicKey],
            admin_private_key_file: f.adminKey,
          },
          children: Object.fromEntries(Object.keys(groups).map((g) => [g, null])),
        },
        ...groups,
      },
    },
  };
  return `${INVENTORY_HEADER} for lab "${state.name}" (${state.hosts.length} ${state.kind} hosts). It is rewritten by every lab up
# and removed by lab down: copy it before you edit it.
${dump(doc, { lineWidth: 200 })}`;
}
