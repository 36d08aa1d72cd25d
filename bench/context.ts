/** What every scenario runner shares: where logs go, the rows collected, how to record a run. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ansibleEnv, coldStart, masterPrefix } from './ansible.js';
import type { BenchArgs } from './args.js';
import { logPath, measure, type Measured } from './measure.js';
import type { Row, Sample } from './stats.js';

export interface Bench {
  args: BenchArgs;
  /** Logs, inventories and ssh control sockets of this run. */
  dir: string;
  cpDir: string;
  rows: Row[];
  /** Lines for the results' "end state" and "notes" sections. */
  endState: string[];
  notes: string[];
}

export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

export function record(b: Bench, scenario: string, tool: string, s: Sample): void {
  let row = b.rows.find((r) => r.scenario === scenario && r.tool === tool);
  if (!row) b.rows.push((row = { scenario, tool, samples: [] }));
  row.samples.push(s);
  // Lab-up rows time the wall clock only.
  const cpu = Number.isFinite(s.cpuMs) ? `, ${(s.cpuMs / 1000).toFixed(2)}s CPU, ${(s.maxRssKb / 1024).toFixed(0)} MB` : '';
  log(`${scenario} | ${tool}: ${(s.wallMs / 1000).toFixed(2)}s wall${cpu}${s.ok ? '' : `  FAILED${s.note ? ` (${s.note})` : ''}`}`);
}

let seq = 0;

/** Measure one run; its log is kept in the bench folder (and named in the failure note). */
export interface TimedOptions {
  ansible?: boolean;
  timeoutMs?: number;
  /** Did the run do what the scenario says? A reason makes it a failed run (not counted in the medians). */
  check?: (log: string) => string | undefined;
}

export async function timed(b: Bench, scenario: string, tool: string, argv: string[], opts: TimedOptions = {}): Promise<Measured & { log: string }> {
  const file = logPath(b.dir, `${String(++seq).padStart(3, '0')}-${scenario}-${tool}`);
  const m = await measure(argv, {
    log: file,
    env: opts.ansible ? ansibleEnv(b.cpDir) : process.env,
    detachedPrefix: opts.ansible ? masterPrefix(b.cpDir) : undefined,
    timeoutMs: opts.timeoutMs ?? 1_200_000,
  });
  if (!m.ok) m.note = `exit ${m.code}, see ${file}`;
  const wrong = m.ok ? opts.check?.(file) : undefined;
  if (wrong) Object.assign(m, { ok: false, note: `${wrong}, see ${file}` });
  record(b, scenario, tool, m);
  return { ...m, log: file };
}

/** An Ansible command timed cold (masters ended first) and then warm (right after, masters reused). */
export async function ansibleColdWarm(b: Bench, scenario: string, argv: string[], check?: TimedOptions['check']): Promise<void> {
  await coldStart(b.cpDir);
  await timed(b, scenario, 'Ansible (cold)', argv, { ansible: true, check });
  await timed(b, scenario, 'Ansible (warm)', argv, { ansible: true, check });
}

export function writeJson(b: Bench, name: string, data: unknown): string {
  const p = join(b.dir, name);
  writeFileSync(p, JSON.stringify(data, null, 2) + '\n');
  return p;
}
