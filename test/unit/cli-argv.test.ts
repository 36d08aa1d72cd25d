import { describe, expect, it } from 'vitest';
import { joinDashValues } from '../../src/cli/argv.js';

describe('joinDashValues', () => {
  it('keeps `--json -` (stdout) one option, so `-` is never taken for a host pattern', () => {
    expect(joinDashValues(['run', '--json', '-', '-i', 'a.yml'])).toEqual(['run', '--json=-', '-i', 'a.yml']);
    expect(joinDashValues(['facts', 'web1', '--json', '-'])).toEqual(['facts', 'web1', '--json=-']);
  });

  it('leaves other values, a bare --json and the remote command alone', () => {
    expect(joinDashValues(['run', '--json', 'out.json', '--', 'x'])).toEqual(['run', '--json', 'out.json', '--', 'x']);
    expect(joinDashValues(['facts', '--json'])).toEqual(['facts', '--json']);
    expect(joinDashValues(['run', '--', 'mytool', '--json', '-'])).toEqual(['run', '--', 'mytool', '--json', '-']);
  });
});
