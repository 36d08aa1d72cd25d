import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InventoryError } from '../../src/core/errors.js';
import { loadInventory } from '../../src/inventory/load.js';
import { labInventory } from '../../src/lab/inventory.js';
import { hostNames } from '../../src/lab/lab.js';
import { hostNet } from '../../src/lab/net.js';
import type { LabState } from '../../src/lab/state.js';

const dir = resolve('test/fixtures/inventory');
const fx = (name: string) => (name.startsWith('/') ? name : join(dir, name));
const noSsh = { sshConfigFile: fx('empty_ssh_config') };
const byName = (file: string, opts = noSsh) => new Map(loadInventory([fx(file)], opts).hosts.map((h) => [h.name, h]));

describe('loadInventory: Ansible layout and precedence', () => {
  const inv = loadInventory([fx('good-precedence.yml')], noSsh);
  const h = new Map(inv.hosts.map((x) => [x.name, x]));

  it('keeps inventory order and expands host ranges', () => {
    expect(inv.hosts.map((x) => x.name)).toEqual(['lonely', 'web1', 'web2', 'db1', 'st01', 'st02']);
  });

  it('merges vars host > child group > parent group > all', () => {
    expect(h.get('web1')!.vars).toMatchObject({ level: 'web', site: 'prod', ansible_user: 'deploy' });
    expect(h.get('web2')!.vars.level).toBe('host');
    expect(h.get('lonely')!.vars).toMatchObject({ level: 'all', site: 'all' });
    expect(h.get('lonely')!.port).toBe(2200);
    expect(h.get('web1')!.port).toBe(2201);
    expect(h.get('db1')!.port).toBe(2222);
  });

  it('resolves connection settings with defaults and relative paths', () => {
    const web1 = h.get('web1')!;
    expect(web1).toMatchObject({ address: '10.0.0.11', user: 'deploy', become: true, identityFiles: [join(dir, 'keys/web_ed25519')] });
    expect(web1.knownHostsFiles).toEqual([join(homedir(), '.ssh/known_hosts')]);
    expect(h.get('web2')).toMatchObject({ user: 'root', become: false });
    expect(h.get('db1')).toMatchObject({ address: '10.0.1.1', user: 'deploy', become: false });
    expect(h.get('db1')!.knownHostsFiles).toEqual([join(dir, 'known_hosts'), '/etc/ssh/ssh_known_hosts']);
    expect(h.get('lonely')!.address).toBe('lonely');
  });

  it('lists groups transitively and as tags', () => {
    expect(h.get('web1')!.groups).toEqual(['prod', 'web']);
    expect(h.get('web1')!.tags).toEqual(['canary', 'prod', 'web']);
    expect(h.get('web2')!.groups).toEqual(['prod', 'web', 'staging']);
    expect(h.get('lonely')!.groups).toEqual([]);
    expect(inv.groups.prod).toEqual({ hosts: [], children: ['web', 'db'] });
    expect(inv.groups.staging.hosts).toEqual(['web2', 'st01', 'st02']);
    expect(inv.groups.ungrouped.hosts).toEqual(['lonely']);
    expect(h.get('web1')!.source).toEqual({ file: fx('good-precedence.yml'), line: 22 });
  });

  it('accepts a top-level group other than all', () => {
    const t = byName('good-toplevel.yml');
    expect(t.get('w1')).toMatchObject({ address: '192.0.2.1', user: 'root', groups: ['web'] });
    expect(t.get('d1')).toMatchObject({ user: 'admin', become: true, groups: ['db'] });
  });

  it('merges several files as Ansible does', () => {
    const inv2 = loadInventory([fx('good-toplevel.yml'), fx('good-precedence.yml')], noSsh);
    expect(inv2.hosts.map((x) => x.name)).toEqual(['w1', 'd1', 'lonely', 'web1', 'web2', 'db1', 'st01', 'st02']);
    expect(inv2.groups.web.hosts).toEqual(['w1', 'web1', 'web2']);
    expect(inv2.files).toHaveLength(2);
  });

  /** The inventory `lab up` would write for lab `name`, its files under /k/NAME/. */
  const labInventoryFile = (name: string, kind: 'full' | 'light', n: number, slot: number) => {
    const state: LabState = {
      version: 1, name, slot, kind, image: 'x', createdAt: '', guardRoutes: [],
      hosts: hostNames(kind, n).map((h, i) => ({ ...h, ...hostNet(slot, i), kind })),
    };
    const file = join(mkdtempSync(join(tmpdir(), 'hf-inv-')), `${name}.yml`);
    const k = `/k/${name}`;
    writeFileSync(file, labInventory(state, { operatorKey: `${k}/op`, adminKey: `${k}/adm`, adminPublicKey: 'ssh-ed25519 AAAA adm', adminUser: 'hfadmin', knownHosts: `${k}/kh` }));
    return { state, file };
  };

  it('loads the inventory lab up writes, and the example, unchanged', () => {
    const { state, file } = labInventoryFile('lab', 'full', 3, 0);
    const lab = new Map(loadInventory([file], noSsh).hosts.map((x) => [x.name, x]));
    expect([...lab.keys()].sort()).toEqual(state.hosts.map((x) => x.name).sort());
    const first = state.hosts[0];
    expect(lab.get(first.name)).toMatchObject({ address: first.ipv4, user: 'root', identityFiles: ['/k/lab/op'], knownHostsFiles: ['/k/lab/kh'] });
    expect([...lab.values()].filter((x) => x.tags.includes('canary'))).toHaveLength(1);
    const ex = new Map(loadInventory(['inventory/example.yml'], noSsh).hosts.map((x) => [x.name, x]));
    expect(ex.get('web1')!.jump?.name).toBe('bastion');
    expect(ex.get('web1')!.tags).toContain('canary');
    expect(ex.get('db1')!.groups).toContain('db');
  });

  it("keeps each lab's key and known_hosts when two lab inventories are loaded together", () => {
    const full = labInventoryFile('eng', 'full', 3, 1);
    const light = labInventoryFile('englt', 'light', 5, 2);
    const hosts = loadInventory([full.file, light.file], noSsh).hosts;
    expect(hosts.map((h) => h.name)).toEqual([...full.state.hosts, ...light.state.hosts].map((h) => h.name));
    for (const [lab, names] of [['eng', full.state.hosts], ['englt', light.state.hosts]] as const) {
      for (const { name } of names) {
        expect(hosts.find((h) => h.name === name)).toMatchObject({ identityFiles: [`/k/${lab}/op`], knownHostsFiles: [`/k/${lab}/kh`], vars: { lab_name: lab } });
      }
    }
  });
});

describe('loadInventory: ssh_config merge', () => {
  const h = byName('good-ssh.yml', { sshConfigFile: fx('ssh_config') });

  it('takes HostName, Port, User, IdentityFile from ssh_config', () => {
    expect(h.get('app1')).toMatchObject({ address: '10.1.0.1', port: 2022, user: 'ops', identityFiles: [join(homedir(), '.ssh/app_ed25519')] });
  });

  it('lets explicit inventory values win and looks up ansible_host', () => {
    expect(h.get('app2')).toMatchObject({ address: '192.0.2.20', user: 'root', port: 2023 });
  });

  it('chains ProxyJump hops: the last hop is reached through the ones before it', () => {
    const gw = h.get('app1')!.jump!;
    expect(gw).toMatchObject({ name: 'gateway', address: 'gw.example.net', user: 'jumper' });
    expect(gw.jump).toMatchObject({ name: 'middle', address: '10.1.255.1', user: 'mid' });
    expect(gw.jump!.jump).toMatchObject({ name: 'outer', address: '203.0.113.1' });
    expect(gw.jump!.jump!.jump).toBeUndefined();
  });

  it('resolves jump to inventory hosts and ssh_config aliases, and chains them', () => {
    expect(h.get('inner')!.jump).toBe(h.get('bastion'));
    expect(h.get('bastion')!.jump).toMatchObject({ name: 'edge', address: '203.0.113.9', user: 'edgeuser' });
    expect(h.get('app3')!.jump!.name).toBe('gateway');
  });

  it('never runs Match exec', () => {
    expect(h.get('app3')!.user).toBe('root');
    expect(existsSync('/tmp/hardfleet-match-exec-ran')).toBe(false);
  });
});

/** Bad inventories: the fragment the message must hold and the line it must point at. */
const bad: Array<[file: string, fragment: string | RegExp, line: number | undefined]> = [
  ['bad-syntax.yml', 'YAML syntax', 6],
  ['bad-duplicate-host.yml', 'duplicated mapping key', 8],
  ['bad-unknown-key.yml', 'group "web": unknown key "ansible_user"', 6],
  ['bad-port.yml', 'ansible_port must be an integer from 1 to 65535', 7],
  ['bad-port-range.yml', 'port must be an integer from 1 to 65535, not 70000', 5],
  ['bad-tags.yml', 'tags must be a list of strings', 4],
  ['bad-unsafe-address.yml', /host "web2": address "1\.2\.3\.4; rm -rf \/" holds characters a shell would interpret/, 6],
  ['bad-unsafe-user.yml', 'ansible_user "$(reboot)" holds characters a shell would interpret', 5],
  ['bad-unsafe-name.yml', 'host "web1 && reboot": address', 3],
  ['bad-unknown-group.yml', 'group "dbs" is named but defined nowhere', 9],
  ['bad-cycle.yml', 'group cycle: a -> b -> a', 9],
  ['bad-jump.yml', 'jump "bastoin" is neither an inventory host nor a Host in ssh_config', 7],
  ['bad-jump-cycle.yml', 'jump cycle: a -> b -> a', 6],
  ['bad-hosts-list.yml', 'hosts: must be a mapping of host names', 4],
  ['bad-not-mapping.yml', 'an inventory must be a mapping of groups', 1],
  ['bad-range.yml', 'host range "web[09:01]" is malformed', 3],
  ['bad-tab.yml', 'YAML syntax: tab characters', 4],
  ['bad-host-list.yml', 'host "web1": must be a mapping, not a list', 4],
  ['bad-ini.ini', "an INI inventory ([web]): hardfleet reads Ansible's YAML layout", 2],
  ['bad-known-hosts-dir.yml', `host "web1": known_hosts file ${dir} is a directory`, 6],
  ['bad-recursive-alias.yml', 'YAML alias inside its own anchor', undefined],
  ['bad-alias-bomb.yml', 'YAML aliases expand to more than 200000 values', undefined],
  ['.', 'cannot read inventory: a directory, not a file', undefined],
  ['/dev/zero', 'cannot read inventory: not a regular file', undefined],
  ['bad-template.yml', 'ansible_host "{{ inventory_hostname }}" is a Jinja template: hardfleet does not expand templates', 4],
  ['bad-vault.yml', 'YAML syntax: unknown tag !<!vault>', 6],
];

/** The hint each of these must give: what to do, not a guess at another mistake. */
const hints: Array<[file: string, hint: string]> = [
  ['bad-syntax.yml', ''],
  ['bad-tab.yml', 'indent with spaces'],
  ['bad-duplicate-host.yml', 'merge the two entries into one'],
  ['bad-ini.ini', `ansible-inventory -i ${fx('bad-ini.ini')} --list -y`],
  ['bad-vault.yml', 'Ansible Vault values are not supported'],
];

describe('loadInventory: errors carry file and line', () => {
  it.each(bad)('%s', (file, fragment, line) => {
    let err: unknown;
    try {
      loadInventory([fx(file)], noSsh);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InventoryError);
    const e = err as InventoryError;
    if (typeof fragment === 'string') expect(e.message).toContain(fragment);
    else expect(e.message).toMatch(fragment);
    expect(e.file).toBe(fx(file));
    expect(e.line).toBe(line);
  });

  it.each(hints)('%s: hint', (file, hint) => {
    expect(() => loadInventory([fx(file)], noSsh)).toThrow(expect.objectContaining({ hint: hint ? expect.stringContaining(hint) : undefined }));
  });

  it('tells what to do about an unsafe value', () => {
    expect(() => loadInventory([fx('bad-unsafe-address.yml')], noSsh)).toThrow(
      expect.objectContaining({ hint: expect.stringContaining('plain address') }),
    );
  });

  it('reports a missing ssh_config that was asked for', () => {
    expect(() => loadInventory([fx('good-toplevel.yml')], { sshConfigFile: fx('nope') })).toThrow(InventoryError);
  });
});
