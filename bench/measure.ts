/**
 * Runs one command and measures it: wall time (ours), CPU time of the whole child tree and the
 * largest resident set (GNU time, i.e. the kernel's rusage of every reaped descendant), and the
 * peak of the tree's summed resident sets (sampled from /proc every 200 ms).
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Sample } from './stats.js';

const PAGE_KB = 4;
const CLK_TCK = 100;

function children(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ')) if (c.trim()) out.push(Number(c));
    } catch {
      // the task ended between the two reads
    }
  }
  return out;
}

function rssKb(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE_KB;
  } catch {
    return 0;
  }
}

/** Summed RSS of `root` and everything below it, now. */
export function treeRssKb(root: number): number {
  let sum = 0;
  const todo = [root];
  while (todo.length) {
    const p = todo.pop()!;
    sum += rssKb(p);
    todo.push(...children(p));
  }
  return sum;
}

/** utime+stime (ms) of processes whose command line starts with `prefix` (Ansible's detached ssh masters). */
export function cpuOfDetached(prefix: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (!readFileSync(`/proc/${d}/cmdline`, 'utf8').startsWith(prefix)) continue;
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(d), ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK);
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr of the command go here. */
  log: string;
  /** Detached processes whose CPU belongs to this run (command-line prefix), e.g. ssh ControlPersist masters. */
  detachedPrefix?: string;
  timeoutMs?: number;
}

export interface Measured extends Sample {
  code: number | null;
}

export async function measure(argv: string[], opts: RunOptions): Promise<Measured> {
  const timeFile = `${opts.log}.time`;
  const before = opts.detachedPrefix ? cpuOfDetached(opts.detachedPrefix) : new Map<number, number>();
  const fd = openSync(opts.log, 'w');
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, ...argv], { stdio: ['ignore', fd, fd], env: opts.env ?? process.env });
  closeSync(fd);
  let peak = 0;
  const sampler = setInterval(() => {
    if (child.pid) peak = Math.max(peak, treeRssKb(child.pid));
  }, 200);
  const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs) : undefined;
  const code = await new Promise<number | null>((resolve) => {
    child.on('exit', (c) => resolve(c));
    child.on('error', () => resolve(null));
  });
  const wallMs = performance.now() - t0;
  clearInterval(sampler);
  if (timer) clearTimeout(timer);
  const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
  rmSync(timeFile, { force: true });
  const [u, s, m] = last.split(' ').map(Number);
  let cpuMs = ((u ?? NaN) + (s ?? NaN)) * 1000;
  if (opts.detachedPrefix) {
    for (const [pid, ms] of cpuOfDetached(opts.detachedPrefix)) cpuMs += ms - (before.get(pid) ?? 0);
  }
  return { wallMs, cpuMs, maxRssKb: m ?? NaN, sumRssKb: Math.max(peak, m ?? 0), ok: code === 0, code };
}

export function logPath(dir: string, name: string): string {
  return join(dir, `${name.replace(/[^a-z0-9.-]+/gi, '_')}.log`);
}
