/**
 * Load Ansible-style YAML inventories into validated HostSpecs. Every mistake in them is an
 * InventoryError with file and line; nothing is connected to.
 */
import type { HostSpec } from '../core/host.js';
import { collect } from './collect.js';
import { resolveHosts } from './resolve.js';
import { readSshConfig } from './ssh-config.js';

export interface InventoryGroup {
  /** Hosts listed directly in the group. */
  hosts: string[];
  children: string[];
}

export interface Inventory {
  /** In inventory order: the order hosts are first written in, file after file. */
  hosts: HostSpec[];
  groups: Record<string, InventoryGroup>;
  files: string[];
}

export interface LoadInventoryOptions {
  /** ssh_config to merge; ~/.ssh/config when absent. Inventory values win over it. */
  sshConfigFile?: string;
}

export function loadInventory(files: string[], opts: LoadInventoryOptions = {}): Inventory {
  const collected = collect(files);
  const { hosts, groups } = resolveHosts(collected, readSshConfig(opts.sshConfigFile));
  return { hosts, groups, files: [...files] };
}
