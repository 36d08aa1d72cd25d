/** A host as the inventory resolves it: every variable merged, connection settings explicit. */
export interface HostSpec {
  /** Inventory name. */
  name: string;
  /** Address to connect to (ansible_host / address / ssh_config HostName); defaults to name. */
  address: string;
  port: number;
  user: string;
  /** Private key files to try, in order. */
  identityFiles: string[];
  /** known_hosts files to check host keys against (first one is where --accept-new records). */
  knownHostsFiles: string[];
  /** Name of another inventory host (or ssh_config alias) to jump through; a chain via that host's own jump. */
  jump?: HostSpec;
  /** Use sudo -n for privileged commands when user is not root. */
  become: boolean;
  /** Host tags plus the names of every group the host belongs to (transitively). */
  tags: string[];
  groups: string[];
  /** Merged variables (host > child group > parent group > all), connection vars included. */
  vars: Record<string, unknown>;
  /** Where the host is defined, for error messages. */
  source?: { file: string; line?: number };
}
