import { describe, expect, it } from 'vitest';
import { summarize, type RunReport } from '../../src/engine/report.js';
import { recap } from '../../src/ui/recap.js';

const report = (): RunReport => {
  const hosts: RunReport['hosts'] = {
    web1: { status: 'failed', address: '198.18.0.10', batch: 1, steps: [], stdout: 'partial\n', stderr: 'boom\n', exitCode: 3, error: 'command: exit 3: boom' },
  };
  return { summary: summarize(hosts), batches: [['web1']], hosts, check: false };
};

describe('recap of an ad-hoc run', () => {
  it("shows a failed host's output", () => {
    const text = recap(report(), { diff: false });
    expect(text).toContain('    | partial');
    expect(text).toContain('    ! boom');
  });

  it('does not print output again that was streamed during the run', () => {
    const text = recap(report(), { diff: false, outputShown: true });
    expect(text).not.toContain('partial');
    expect(text).toContain('FAILED: command: exit 3: boom');
  });
});
