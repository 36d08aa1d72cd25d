import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { loadInventory } from '../../src/inventory/load.js';
import { selectHosts, type SelectOptions } from '../../src/inventory/select.js';

const fx = (name: string) => resolve('test/fixtures/inventory', name);
// Hosts: lonely (ungrouped), web1 (prod, web, tag canary), web2 (prod, web, staging), db1 (prod, db), st01, st02 (staging).
const inv = loadInventory([fx('good-precedence.yml')], { sshConfigFile: fx('empty_ssh_config') });

const cases: Array<[what: string, opts: SelectOptions, names: string[]]> = [
  ['everything by default', {}, ['lonely', 'web1', 'web2', 'db1', 'st01', 'st02']],
  ['a host name', { limit: 'db1' }, ['db1']],
  ['a group, transitively', { limit: 'prod' }, ['web1', 'web2', 'db1']],
  ['a glob matches hosts (st* would match group staging too)', { limit: 'st0*' }, ['st01', 'st02']],
  ['a glob over groups', { limit: 'stag*' }, ['web2', 'st01', 'st02']],
  ['all', { limit: 'all' }, ['lonely', 'web1', 'web2', 'db1', 'st01', 'st02']],
  ['ungrouped', { limit: 'ungrouped' }, ['lonely']],
  ['a comma list keeps inventory order', { limit: 'db1,web1' }, ['web1', 'db1']],
  ['a colon list', { limit: 'web:db' }, ['web1', 'web2', 'db1']],
  ['an exclusion', { limit: 'prod,!web2' }, ['web1', 'db1']],
  ['only exclusions start from all', { limit: '!prod' }, ['lonely', 'st01', 'st02']],
  ['an intersection', { limit: 'web:&staging' }, ['web2']],
  ['a regex', { limit: '~^(web|db)1$' }, ['web1', 'db1']],
  ['a tag', { tags: ['canary'] }, ['web1']],
  ['a group name as a tag', { tags: ['staging'] }, ['web2', 'st01', 'st02']],
  ['several tags: all of them', { tags: ['web', 'staging'] }, ['web2']],
  ['tags as a comma list', { tags: ['web,prod'] }, ['web1', 'web2']],
  ['limit and tag', { limit: 'prod', tags: ['web'] }, ['web1', 'web2']],
  ['exclude', { exclude: ['web*', 'lonely'] }, ['db1', 'st01', 'st02']],
  ['exclude a group', { limit: 'prod', exclude: ['db'] }, ['web1', 'web2']],
  ['the play\'s pattern', { pattern: 'web' }, ['web1', 'web2']],
  ['--limit narrows the pattern, never adds to it (Ansible)', { pattern: 'web', limit: 'web2,db1' }, ['web2']],
  ['a pattern with an exclusion, narrowed', { pattern: 'prod:!db', limit: 'web*' }, ['web1', 'web2']],
  ['pattern all is everything', { pattern: 'all', limit: 'db1' }, ['db1']],
];

describe('selectHosts', () => {
  it.each(cases)('%s', (_what, opts, names) => {
    expect(selectHosts(inv, opts).map((h) => h.name)).toEqual(names);
  });

  const errors: Array<[what: string, opts: SelectOptions, fragment: string]> = [
    ['a limit term that matches nothing', { limit: 'web1,wbe2' }, '--limit wbe2: matches no host and no group'],
    ['an exclusion that matches nothing', { limit: '!wbe2' }, '--limit wbe2: matches no host and no group'],
    ['an unknown tag', { tags: ['canery'] }, '--tag canery: no host has this tag'],
    ['an exclude that matches nothing', { exclude: ['nope'] }, '--exclude nope: matches no host'],
    ['an empty result', { limit: 'db', tags: ['canary'] }, 'no host selected by --limit db --tag canary'],
    ['everything excluded', { limit: 'st*', exclude: ['staging'] }, 'no host selected'],
    ['a play pattern that matches nothing, named as such', { pattern: 'nosuch', patternLabel: 'pb.yml: hosts:' }, 'pb.yml: hosts: nosuch: matches no host and no group'],
    ['a limit outside the pattern', { pattern: 'web', patternLabel: 'pb.yml: hosts:', limit: 'db1' }, 'no host selected by pb.yml: hosts: web --limit db1'],
  ];
  it.each(errors)('refuses %s', (_what, opts, fragment) => {
    expect(() => selectHosts(inv, opts)).toThrow(UsageError);
    expect(() => selectHosts(inv, opts)).toThrow(fragment);
  });

  it('refuses a name that is both a host and a group (Ansible would take both)', () => {
    const both = loadInventory([fx('host-and-group-same-name.yml')], { sshConfigFile: fx('empty_ssh_config') });
    expect(() => selectHosts(both, { limit: 'h1' })).toThrow('--limit h1: names both a host and a group of the inventory');
    expect(selectHosts(both, { limit: 'h*' }).map((h) => h.name)).toEqual(['h1', 'h2']);
  });

  it('lists groups, tags and a few hosts when nothing is selected', () => {
    try {
      selectHosts(inv, { limit: 'db', tags: ['canary'] });
      expect.unreachable();
    } catch (e) {
      expect((e as UsageError).hint).toBe('groups: prod, web, db, staging, ungrouped; tags: canary; hosts: lonely, web1, web2, db1, st01, … (6 hosts)');
    }
  });
});

describe('selectHosts on an inventory without hosts', () => {
  it('names the files and says how to list hosts', () => {
    const empty = loadInventory([fx('empty.yml')], { sshConfigFile: fx('empty_ssh_config') });
    expect(() => selectHosts(empty)).toThrow(expect.objectContaining({ message: `no host selected: ${fx('empty.yml')} holds no host`, hint: expect.stringContaining('all: { hosts:') }));
  });
});
