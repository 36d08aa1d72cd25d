import { describe, expect, it } from 'vitest';
import { hostNames } from '../../src/lab/lab.js';

describe('lab host names and groups', () => {
  it('splits full hosts into web and db, the first web host the canary', () => {
    expect(hostNames('full', 5)).toEqual([
      { name: 'web1', groups: ['web'], tags: ['canary'] },
      { name: 'web2', groups: ['web'], tags: [] },
      { name: 'web3', groups: ['web'], tags: [] },
      { name: 'db1', groups: ['db'], tags: [] },
      { name: 'db2', groups: ['db'], tags: [] },
    ]);
  });
  it('numbers light hosts with a fixed width so they sort', () => {
    const names = hostNames('light', 1000).map((h) => h.name);
    expect(names[0]).toBe('l0001');
    expect(names[999]).toBe('l1000');
    expect([...names].sort()).toEqual(names);
  });
});
