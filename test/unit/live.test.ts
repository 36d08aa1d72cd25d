import { afterEach, describe, expect, it, vi } from 'vitest';
import { liveView } from '../../src/ui/live.js';

describe('liveView', () => {
  afterEach(() => vi.restoreAllMocks());

  it('leaves Ctrl-C to the CLI: no list, nested ones included, listens for SIGINT', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const before = process.listenerCount('SIGINT');
    const view = liveView([['web1'], ['db1', 'db2']], false);
    // Let the first batch start, so that its nested list of hosts exists.
    await new Promise((r) => setTimeout(r, 20));
    view.progress('web1', 'gathering facts');
    expect(process.listenerCount('SIGINT')).toBe(before);
    view.hostDone('web1', { status: 'changed', address: '198.18.0.10', batch: 1, steps: [] });
    await new Promise((r) => setTimeout(r, 20));
    expect(process.listenerCount('SIGINT')).toBe(before);
    await view.finish();
  });
});
