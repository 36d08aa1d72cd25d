/**
 * The live view: one row per batch, a row per host inside it showing what it is doing now,
 * collapsed to one line when the host is done. listr2's default renderer on a terminal, its plain
 * "simple" renderer for pipes and CI. It only listens to the engine's events.
 */
import { Listr, type ListrTaskWrapper } from 'listr2';
import type { HostReport } from '../engine/report.js';
import { plainOutput } from './terminal.js';

interface Deferred {
  done: Promise<HostReport | undefined>;
  resolve(r: HostReport | undefined): void;
}

function deferred(): Deferred {
  let resolve!: (r: HostReport | undefined) => void;
  const done = new Promise<HostReport | undefined>((r) => (resolve = r));
  return { done, resolve };
}

export interface LiveView {
  progress(host: string, msg: string): void;
  hostDone(host: string, r: HostReport): void;
  /** The rollout ended: hosts never started are shown so. */
  finish(): Promise<void>;
}

const WORD: Record<string, string> = { ok: 'ok', changed: 'changed', failed: 'failed', unreachable: 'unreachable', 'rolled-back': 'rolled back', skipped: 'skipped' };

export function liveView(batches: string[][], check: boolean, quiet = false): LiveView {
  const hosts = new Map<string, Deferred>();
  const tasks = new Map<string, ListrTaskWrapper<unknown, never, never>>();
  for (const b of batches) for (const h of b) hosts.set(h, deferred());
  if (quiet) {
    return { progress() {}, hostDone() {}, finish: async () => {} };
  }
  const list = new Listr(
    batches.map((batch, i) => {
      const title = `batch ${i + 1}/${batches.length}: ${batch.length} host${batch.length > 1 ? 's' : ''}`;
      // The batch row says how its hosts ended: listr2 ticks it even when every host failed.
      const ended = new Map<string, number>();
      const tally = (t: ListrTaskWrapper<unknown, never, never>, word: string) => {
        ended.set(word, (ended.get(word) ?? 0) + 1);
        t.title = `${title} (${[...ended].map(([w, n]) => `${n} ${w}`).join(', ')})`;
      };
      return {
      title,
      task: (_: unknown, t: ListrTaskWrapper<unknown, never, never>) =>
        t.newListr(
          batch.map((name) => ({
            title: name,
            task: async (_c: unknown, ht: ListrTaskWrapper<unknown, never, never>) => {
              tasks.set(name, ht);
              const r = await hosts.get(name)!.done;
              if (!r || r.status === 'not-started') {
                tally(t, 'not started');
                return ht.skip(`${name}: not started`);
              }
              tally(t, check && r.status === 'changed' ? 'would change' : WORD[r.status]!);
              const changed = r.steps.filter((s) => s.changed).map((s) => s.id);
              ht.title = `${name}: ${check && r.status === 'changed' ? 'would change' : WORD[r.status]}${changed.length ? ` (${changed.join(', ')})` : ''}`;
              if (r.status === 'failed' || r.status === 'unreachable' || r.status === 'rolled-back') throw new Error(`${name}: ${r.error ?? r.status}`);
            },
          })),
          { concurrent: true, exitOnError: false, rendererOptions: { collapseSubtasks: true, collapseErrors: false } } as never,
        ),
      };
    }),
    {
      concurrent: false,
      exitOnError: false,
      // listr2 would exit(127) on the first Ctrl-C (nested lists inherit this); the CLI's handler
      // lets running hosts finish, then prints the recap and writes the report.
      registerSignalListeners: false,
      renderer: plainOutput() ? 'simple' : 'default',
      rendererOptions: { collapseSubtasks: true },
      fallbackRenderer: 'simple',
    } as never,
  );
  const running = list.run().catch(() => undefined);
  return {
    progress(host, msg) {
      const t = tasks.get(host);
      if (t) t.output = msg;
    },
    hostDone(host, r) {
      hosts.get(host)?.resolve(r);
    },
    async finish() {
      for (const d of hosts.values()) d.resolve(undefined);
      await running;
    },
  };
}
