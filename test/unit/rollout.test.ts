import { describe, expect, it } from 'vitest';
import { rollout } from '../../src/engine/rollout.js';
import { exitCode, type HostReport, type HostStatus } from '../../src/engine/report.js';

const fleet = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `h${i + 1}`, address: `198.18.0.${10 + i}`, tags: [] as string[] }));

/** A work function whose outcome per host comes from a table; it records the order hosts started in. */
function scripted(outcomes: Record<string, HostStatus>, started: string[], delayMs = 5) {
  return async (h: { name: string; address: string }): Promise<HostReport> => {
    started.push(h.name);
    await new Promise((r) => setTimeout(r, delayMs));
    const status = outcomes[h.name] ?? 'changed';
    return { status, address: h.address, batch: 0, steps: [], error: status === 'failed' || status === 'unreachable' ? 'boom' : undefined };
  };
}

describe('rollout', () => {
  it('runs every batch and reports each host with its batch', async () => {
    const started: string[] = [];
    const r = await rollout(fleet(6), { serial: [1, 2, '100%'], forks: 20 }, scripted({ h2: 'ok' }, started));
    expect(r.batches).toEqual([['h1'], ['h2', 'h3'], ['h4', 'h5', 'h6']]);
    expect(r.summary).toMatchObject({ ok: 1, changed: 5, failed: 0, notStarted: 0 });
    expect(r.hosts.h5.batch).toBe(3);
    expect(exitCode(r)).toBe(0);
  });

  it('stops after a failed canary under max-fail 0: later batches are not started', async () => {
    const started: string[] = [];
    const r = await rollout(fleet(5), { serial: [1, '50%'], forks: 20, maxFail: 0 }, scripted({ h1: 'failed' }, started));
    expect(started).toEqual(['h1']);
    expect(r.stopped?.reason).toBe('budget');
    expect(r.summary).toMatchObject({ failed: 1, notStarted: 4 });
    expect(exitCode(r)).toBe(3);
  });

  it('stops when every host of a batch failed, even with no budget set (as Ansible)', async () => {
    const started: string[] = [];
    const r = await rollout(fleet(5), { serial: [1, '50%'], forks: 20 }, scripted({ h1: 'failed' }, started));
    expect(started).toEqual(['h1']);
    expect(r.stopped?.message).toBe('every host of batch 1 failed: no later batch was started');
    expect(r.summary).toMatchObject({ failed: 1, notStarted: 4 });
    expect(exitCode(r)).toBe(3);
  });

  it('goes on past a batch with one failure among successes when no budget is set', async () => {
    const r = await rollout(fleet(5), { serial: 2, forks: 20 }, scripted({ h1: 'failed' }, []));
    expect(r.stopped).toBeUndefined();
    expect(r.summary).toMatchObject({ failed: 1, changed: 4, notStarted: 0 });
  });

  it('counts an unreachable host as failed', async () => {
    const r = await rollout(fleet(3), { serial: 1, forks: 1, maxFail: 0 }, scripted({ h1: 'unreachable' }, []));
    expect(r.stopped?.reason).toBe('budget');
    expect(r.summary).toMatchObject({ unreachable: 1, notStarted: 2 });
  });

  it('counts a rolled-back host as failed', async () => {
    const r = await rollout(fleet(3), { serial: 1, forks: 1, failFast: true }, scripted({ h1: 'rolled-back' }, []));
    expect(r.summary).toMatchObject({ rolledBack: 1, failed: 1, notStarted: 2 });
  });

  it('lets running hosts finish but starts no new one when the budget is spent mid-batch', async () => {
    const started: string[] = [];
    const r = await rollout(fleet(10), { serial: 10, forks: 2, maxFail: 0 }, scripted({ h1: 'failed' }, started, 20));
    expect(started).toEqual(['h1', 'h2']);
    expect(r.hosts.h2.status).toBe('changed');
    expect(r.summary.notStarted).toBe(8);
  });

  it('applies max-fail-percent per batch, rounding the allowance down', async () => {
    // 4 hosts, 25% allowed: one failure is within budget, two are not.
    const one = await rollout(fleet(8), { serial: 4, forks: 4, maxFailPercent: 25 }, scripted({ h1: 'failed' }, []));
    expect(one.stopped).toBeUndefined();
    expect(exitCode(one)).toBe(2);
    const two = await rollout(fleet(8), { serial: 4, forks: 4, maxFailPercent: 25 }, scripted({ h1: 'failed', h2: 'failed' }, []));
    expect(two.stopped?.reason).toBe('budget');
    expect(two.summary.notStarted).toBe(4);
  });

  it('without a budget, failures are reported and the rollout goes on', async () => {
    const r = await rollout(fleet(4), { serial: 2, forks: 2 }, scripted({ h1: 'failed' }, []));
    expect(r.stopped).toBeUndefined();
    expect(r.summary).toMatchObject({ failed: 1, changed: 3 });
  });

  it('an interrupt stops new hosts from starting and says so', async () => {
    const ac = new AbortController();
    const started: string[] = [];
    const work = scripted({}, started, 20);
    const r = await rollout(fleet(6), { serial: 6, forks: 2, stop: ac.signal }, async (h) => {
      // Ctrl-C arrives while h1 and h2 are running.
      if (h.name === 'h1') setTimeout(() => ac.abort(), 5);
      return work(h);
    });
    expect(started).toEqual(['h1', 'h2']);
    expect(r.stopped?.reason).toBe('interrupt');
    expect(r.summary.notStarted).toBe(4);
    expect(exitCode(r)).toBe(3);
  });

  it('a work function that throws fails that host only', async () => {
    const r = await rollout(fleet(2), { serial: 2, forks: 2 }, async (h) => {
      if (h.name === 'h1') throw new Error('bug');
      return { status: 'ok', address: h.address, batch: 0, steps: [] };
    });
    expect(r.hosts.h1).toMatchObject({ status: 'failed', error: 'bug' });
    expect(r.hosts.h2.status).toBe('ok');
  });
});
