import { describe, expect, it } from 'vitest';
import { PlaybookError, UsageError } from '../../src/core/errors.js';
import { batches, batchSizes, parseSerial, type SerialSpec } from '../../src/engine/batching.js';

const hosts = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `h${i + 1}`, tags: [] as string[] }));
const sizes = (b: unknown[][]) => b.map((x) => x.length);

const cases: Array<[what: string, total: number, serial: SerialSpec | undefined, forks: number, expected: number[]]> = [
  ['Ansible: 20 hosts at 30%', 20, '30%', 5, [6, 6, 6, 2]],
  ['Ansible: 40 hosts with [1, 5, "25%"]', 40, [1, 5, '25%'], 5, [1, 5, 10, 10, 10, 4]],
  ['a number', 7, 3, 5, [3, 3, 1]],
  ['a number as a string', 4, '2', 5, [2, 2]],
  ['a percentage rounds down but is at least 1', 3, '10%', 5, [1, 1, 1]],
  ['100%', 5, '100%', 2, [5]],
  ['a decimal percentage', 8, '12.5%', 5, [1, 1, 1, 1, 1, 1, 1, 1]],
  ['a batch larger than what is left', 4, [3, 10], 5, [3, 1]],
  ['the last list entry repeats', 10, [1, 2], 5, [1, 2, 2, 2, 2, 1]],
  ['default: one canary, then forks at a time', 12, undefined, 5, [1, 5, 5, 1]],
  ['default with one host', 1, undefined, 5, [1]],
  ['no hosts', 0, '30%', 5, []],
];

describe('batches', () => {
  it.each(cases)('%s', (_what, total, serial, forks, expected) => {
    const hs = hosts(total);
    const b = batches(hs, serial, forks);
    expect(sizes(b)).toEqual(expected);
    expect(batchSizes(total, serial, forks)).toEqual(expected);
    expect(b.flat()).toEqual(hs);
  });

  it('puts the host tagged canary first, the rest in order', () => {
    const hs = hosts(5);
    hs[3].tags = ['canary'];
    expect(batches(hs, undefined, 2).map((b) => b.map((h) => h.name))).toEqual([['h4'], ['h1', 'h2'], ['h3', 'h5']]);
    expect(batches(hs, '40%', 2)[0][0].name).toBe('h4');
  });

  it('works on anything, hosts or not', () => {
    expect(batches([1, 2, 3], 2, 1)).toEqual([[1, 2], [3]]);
  });

  it('refuses forks below 1', () => {
    expect(() => batches(hosts(3), undefined, 0)).toThrow(UsageError);
  });
});

describe('parseSerial', () => {
  const good: Array<[unknown, SerialSpec]> = [
    [5, 5],
    ['5', 5],
    ['30%', '30%'],
    [' 30% ', '30%'],
    [[1, '5', '25%'], [1, 5, '25%']],
    ['1,5,25%', [1, 5, '25%']],
  ];
  it.each(good)('accepts %j', (value, expected) => {
    expect(parseSerial(value, '--serial')).toEqual(expected);
  });

  const bad: Array<[unknown, string]> = [
    ['abc%', '"abc%" is neither a number nor a percentage'],
    [0, '0 is not a positive whole number'],
    [-2, '-2 is not a positive whole number'],
    [1.5, '1.5 is not a positive whole number'],
    ['0', '0 hosts per batch'],
    ['0%', 'not a percentage from 0 to 100'],
    ['150%', 'not a percentage from 0 to 100'],
    [[], 'an empty list'],
    [[1, 'x'], '"x" is neither'],
    [null, 'null is neither'],
    [true, 'true is neither'],
  ];
  it.each(bad)('refuses %j', (value, fragment) => {
    expect(() => parseSerial(value, '--serial')).toThrow(UsageError);
    expect(() => parseSerial(value, '--serial')).toThrow(fragment);
  });

  it('points a playbook error at its file and line', () => {
    try {
      parseSerial('abc%', { file: 'playbooks/base.yml', line: 4 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PlaybookError);
      expect((e as PlaybookError).where).toBe('playbooks/base.yml:4');
    }
  });
});
