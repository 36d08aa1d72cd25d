import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, beforeEach, vi } from 'vitest';
import { canonicalV6, freeSlot, hostNet, isLabAddress, slotNet } from '../../src/lab/net.js';
import { mirrorFromSources } from '../../src/lab/image.js';

describe('lab addressing', () => {
  it.each([
    [0, 0, '198.18.0.10', '2001:2::a', 'hf0-0', 'hfv0x0'],
    [0, 245, '198.18.0.255', '2001:2::ff', 'hf0-245', 'hfv0x245'],
    [0, 246, '198.18.1.0', '2001:2::100', 'hf0-246', 'hfv0x246'],
    [1, 0, '198.18.16.10', '2001:2:0:1::a', 'hf1-0', 'hfv1x0'],
    [31, 4084, '198.19.255.254', '2001:2:0:1f::ffe', 'hf31-4084', 'hfv31x4084'],
  ])('slot %i host %i → %s %s', (slot, i, v4, v6, ns, veth) => {
    expect(hostNet(slot, i)).toEqual({ index: i, ipv4: v4, ipv6: v6, netns: ns, veth });
  });

  it('keeps every address inside the benchmarking ranges and names within 15 characters', () => {
    for (const slot of [0, 7, 31]) {
      const net = slotNet(slot);
      expect(isLabAddress(net.bridgeV4)).toBe(true);
      expect(isLabAddress(net.bridgeV6)).toBe(true);
      for (const i of [0, 1000, 4084]) {
        const h = hostNet(slot, i);
        expect(isLabAddress(h.ipv4)).toBe(true);
        expect(isLabAddress(h.ipv6)).toBe(true);
        expect(h.veth.length).toBeLessThanOrEqual(15);
      }
    }
  });

  it('refuses slots and hosts outside the ranges', () => {
    expect(() => slotNet(32)).toThrow(/out of range/);
    expect(() => hostNet(0, 4085)).toThrow(/out of range/);
    expect(() => hostNet(0, -1)).toThrow(/out of range/);
  });

  it('tells lab addresses from all others', () => {
    for (const a of ['198.18.0.1', '198.19.3.4', '2001:2::a', '2001:2:0:1f::1']) expect(isLabAddress(a)).toBe(true);
    for (const a of ['198.17.0.1', '198.20.0.1', '10.0.0.1', '192.0.2.2', '2001:db8::1', '2001:20::1', 'fd00::2']) expect(isLabAddress(a)).toBe(false);
  });

  it('picks the lowest free slot and says when none is left', () => {
    expect(freeSlot([])).toBe(0);
    expect(freeSlot([0, 1, 3])).toBe(2);
    expect(() => freeSlot(Array.from({ length: 32 }, (_, i) => i))).toThrow(/lab down/);
  });

  it('writes IPv6 addresses in their canonical text form (known_hosts matches text)', () => {
    expect(canonicalV6('2001:2:0:0::1')).toBe('2001:2::1');
    expect(canonicalV6('2001:0002:0000:0001:0000:0000:0000:000a')).toBe('2001:2:0:1::a');
  });
});

describe('Debian mirror from apt sources', () => {
  it.each([
    ['one-line sources.list', 'deb http://mirror.example/debian bookworm main\ndeb http://security.example/debian-security bookworm-security main', 'http://mirror.example/debian'],
    ['signed-by option', 'deb [signed-by=/k.gpg] http://m.example/debian bookworm main', 'http://m.example/debian'],
    ['deb822', 'Types: deb\nURIs: http://sec.example/debian-security\nSuites: bookworm-security\n\nTypes: deb\nURIs: http://m.example/debian\nSuites: bookworm bookworm-updates\nComponents: main', 'http://m.example/debian'],
  ])('%s', (_, text, want) => {
    expect(mirrorFromSources(text)).toBe(want);
  });
  it('says how to set one when none is found', () => {
    expect(() => mirrorFromSources('deb https://other.example/apt nodistro main')).toThrow(/HARDFLEET_MIRROR/);
  });
});

describe('lab state file', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'hf-state-'));
    vi.stubEnv('HARDFLEET_LAB_ROOT', root);
    vi.resetModules();
  });

  const sample = (name: string, slot: number) => ({
    version: 1 as const, name, slot, kind: 'full' as const, image: 'x', createdAt: 'now', guardRoutes: [],
    hosts: [{ name: 'web1', kind: 'full' as const, index: 0, ipv4: '198.18.0.10', ipv6: '2001:2::a', netns: 'hf0-0', veth: 'hfv0x0', groups: ['web'], tags: [] }],
  });

  it('round-trips, writes atomically with mode 0600, and lists labs', async () => {
    const st = await import('../../src/lab/state.js');
    st.writeState(sample('a', 0));
    st.writeState(sample('b', 1));
    expect(st.readState('a')).toEqual(sample('a', 0));
    expect(readdirSync(join(root, 'a'))).toEqual(['state.json']);
    expect(st.listLabs().map((l) => l.slot).sort()).toEqual([0, 1]);
    expect(st.readState('missing')).toBeUndefined();
  });

  it('refuses a file that is not a lab state, and skips it when listing', async () => {
    const st = await import('../../src/lab/state.js');
    st.writeState(sample('a', 0));
    writeFileSync(join(root, 'a', 'state.json'), JSON.stringify({ version: 9, name: 'a' }));
    expect(() => st.readState('a')).toThrow(/not a hardfleet lab state file/);
    expect(st.listLabs()).toEqual([]);
    expect(readFileSync(join(root, 'a', 'state.json'), 'utf8')).toContain('"version":9');
  });

  it('names the hosts a lab has when one is not found', async () => {
    const st = await import('../../src/lab/state.js');
    expect(() => st.findHost(sample('a', 0), 'db9')).toThrow(/no host "db9" in lab a; hosts: web1/);
    expect(st.findHost(sample('a', 0), '198.18.0.10').name).toBe('web1');
  });

  it('accepts only short, simple lab names', async () => {
    const st = await import('../../src/lab/state.js');
    for (const ok of ['lab', 'ci-1', 'a']) expect(st.validLabName(ok)).toBe(true);
    for (const bad of ['', 'Lab', '1lab', 'a/b', 'x'.repeat(17), '../etc']) expect(st.validLabName(bad)).toBe(false);
  });
});

describe('machine limits for many full hosts', () => {
  it('raises only what is lower, records the first value it found, and puts it back', async () => {
    const { raiseLimits, restoreLimits } = await import('../../src/lab/limits.js');
    const d = mkdtempSync(join(tmpdir(), 'hf-limits-'));
    const low = join(d, 'max_user_instances');
    const high = join(d, 'max_user_watches');
    const saved = join(d, 'saved.json');
    writeFileSync(low, '128\n');
    writeFileSync(high, '9999999\n');
    const limits = { [low]: 8192, [high]: 1048576 };
    expect(raiseLimits(limits, saved)).toHaveLength(1);
    expect(readFileSync(low, 'utf8')).toBe('8192\n');
    expect(readFileSync(high, 'utf8')).toBe('9999999\n');
    // a second lab up finds it raised and keeps the original record
    expect(raiseLimits(limits, saved)).toEqual([]);
    expect(JSON.parse(readFileSync(saved, 'utf8'))).toEqual({ [low]: 128 });
    restoreLimits(saved);
    expect(readFileSync(low, 'utf8')).toBe('128\n');
    expect(readFileSync(high, 'utf8')).toBe('9999999\n');
    expect(readdirSync(d).sort()).toEqual(['max_user_instances', 'max_user_watches']);
  });
});
