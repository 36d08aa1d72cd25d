import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkJsonTarget, finishRun } from '../../src/cli/report-out.js';
import { UsageError } from '../../src/core/errors.js';
import { summarize, type RunReport } from '../../src/engine/report.js';

const dir = mkdtempSync(join(tmpdir(), 'hf-json-'));
mkdirSync(join(dir, 'sub'));
writeFileSync(join(dir, 'old.json'), '{}');

describe('checkJsonTarget: --json FILE is checked before any host is touched', () => {
  it.each([
    ['-', undefined],
    [join(dir, 'new.json'), undefined],
    [join(dir, 'old.json'), undefined],
    [join(dir, 'sub'), 'is a directory'],
    [join(dir, 'missing', 'r.json'), `the folder ${join(dir, 'missing')} does not exist`],
    [join(dir, 'old.json', 'r.json'), 'does not exist'],
  ])('%s', (file, refused) => {
    if (refused === undefined) expect(() => checkJsonTarget(file)).not.toThrow();
    else expect(() => checkJsonTarget(file)).toThrow(expect.objectContaining({ name: UsageError.name, message: expect.stringContaining(refused) }));
  });
});

describe('finishRun', () => {
  const hosts: RunReport['hosts'] = { web1: { status: 'changed', address: '198.18.0.10', batch: 1, steps: [] } };
  const report: RunReport = { summary: summarize(hosts), batches: [['web1']], hosts, check: false };
  afterEach(() => vi.restoreAllMocks());

  it('writes the report and the recap', () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(finishRun(report, { json: join(dir, 'r.json'), diff: false })).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')).summary.changed).toBe(1);
    expect(out.mock.calls.join('')).toContain('1 changed');
  });

  it('keeps the recap and the exit code of a finished run when the report cannot be written', () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(finishRun(report, { json: join(dir, 'sub'), diff: false })).toBe(0);
    expect(out.mock.calls.join('')).toContain('1 changed');
    expect(err.mock.calls.join('')).toContain(`--json ${join(dir, 'sub')}: the report could not be written`);
  });
});
