/**
 * Rolling batches under a failure budget. Inside a batch, hosts run in parallel under p-queue
 * with the forks limit. When the budget is spent (or the operator presses Ctrl-C once), hosts
 * already running finish their current work, no new host starts, and every host not started is
 * reported so. Nothing here knows about SSH or steps: it runs a function per host.
 */
import PQueue from 'p-queue';
import { batches as makeBatches, type SerialSpec } from './batching.js';
import { isFailure, summarize, type HostReport, type RunReport } from './report.js';

export interface RolloutOptions {
  serial?: SerialSpec;
  forks: number;
  /** Stop when more than this percentage of a batch fails (Ansible's max_fail_percentage). */
  maxFailPercent?: number;
  /** Stop when more than this many hosts have failed across the run. */
  maxFail?: number;
  /** Stop at the first failure (max-fail 0). */
  failFast?: boolean;
  check?: boolean;
  /** Aborting it stops new hosts from starting (first Ctrl-C). */
  stop?: AbortSignal;
}

export interface RolloutEvents {
  batchStart?(index: number, hosts: string[]): void;
  hostDone?(name: string, report: HostReport): void;
  stopped?(reason: 'budget' | 'interrupt', message: string): void;
}

export interface RolloutHost {
  name: string;
  address: string;
}

export async function rollout<H extends RolloutHost>(
  hosts: H[],
  opts: RolloutOptions,
  work: (host: H, batch: number) => Promise<HostReport>,
  events: RolloutEvents = {},
): Promise<RunReport> {
  const plan = makeBatches(hosts, opts.serial, opts.forks);
  const report: RunReport = { summary: summarize({}), batches: plan.map((b) => b.map((h) => h.name)), hosts: {}, check: !!opts.check };
  for (const [i, batch] of plan.entries()) {
    for (const h of batch) report.hosts[h.name] = { status: 'not-started', address: h.address, batch: i + 1, steps: [] };
  }
  const maxFail = opts.failFast ? 0 : opts.maxFail;
  let failedTotal = 0;
  const stopWith = (reason: 'budget' | 'interrupt', message: string) => {
    if (report.stopped) return;
    report.stopped = { reason, message };
    events.stopped?.(reason, message);
  };

  for (const [i, batch] of plan.entries()) {
    if (report.stopped) break;
    if (opts.stop?.aborted) {
      stopWith('interrupt', 'interrupted: no new host was started');
      break;
    }
    events.batchStart?.(i + 1, batch.map((h) => h.name));
    const queue = new PQueue({ concurrency: Math.max(1, opts.forks) });
    let failedInBatch = 0;
    const allowedInBatch = opts.maxFailPercent === undefined ? Infinity : Math.floor((opts.maxFailPercent / 100) * batch.length);
    const onStop = () => {
      queue.clear();
      stopWith('interrupt', 'interrupted: running hosts finished their current work, no new host was started');
    };
    opts.stop?.addEventListener('abort', onStop, { once: true });
    for (const host of batch) {
      void queue.add(async () => {
        if (report.stopped) return;
        let r: HostReport;
        try {
          r = await work(host, i + 1);
        } catch (e) {
          r = { status: 'failed', address: host.address, batch: i + 1, steps: [], error: e instanceof Error ? e.message : String(e) };
        }
        report.hosts[host.name] = { ...r, batch: i + 1 };
        events.hostDone?.(host.name, report.hosts[host.name]);
        if (isFailure(r.status)) {
          failedInBatch++;
          failedTotal++;
          if (maxFail !== undefined && failedTotal > maxFail) {
            queue.clear();
            stopWith('budget', `failure budget spent: ${failedTotal} host${failedTotal > 1 ? 's' : ''} failed, --max-fail is ${maxFail}`);
          } else if (failedInBatch > allowedInBatch) {
            queue.clear();
            stopWith('budget', `failure budget spent: ${failedInBatch} of ${batch.length} hosts in batch ${i + 1} failed, more than ${opts.maxFailPercent}%`);
          }
        }
      });
    }
    await queue.onIdle();
    opts.stop?.removeEventListener('abort', onStop);
    // As Ansible: whatever the budget says, a batch in which every host failed ends the play.
    if (!report.stopped && failedInBatch === batch.length && i < plan.length - 1) {
      stopWith('budget', `every host of batch ${i + 1} failed: no later batch was started`);
    }
  }
  report.summary = summarize(report.hosts);
  return report;
}
