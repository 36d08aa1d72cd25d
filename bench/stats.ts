/** Pure pieces of the bench: medians, ratios, the results table. No processes, no files. */

export interface Sample {
  wallMs: number;
  /** user + sys of the whole child tree (and, for Ansible, of its ControlPersist masters). */
  cpuMs: number;
  /** Largest resident set of any one process of the tree (the kernel's ru_maxrss), in KiB. */
  maxRssKb: number;
  /** Peak of the tree's summed resident sets, sampled every 200 ms, in KiB. */
  sumRssKb: number;
  ok: boolean;
  note?: string;
}

export interface Row {
  scenario: string;
  tool: string;
  samples: Sample[];
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Medians {
  wallMs: number;
  cpuMs: number;
  maxRssKb: number;
  sumRssKb: number;
  runs: number;
  failed: number;
}

/** Medians over the runs that succeeded (a failed run says nothing about speed; it is counted). */
export function medians(samples: Sample[]): Medians {
  const ok = samples.filter((s) => s.ok);
  return {
    wallMs: median(ok.map((s) => s.wallMs)),
    cpuMs: median(ok.map((s) => s.cpuMs)),
    maxRssKb: median(ok.map((s) => s.maxRssKb)),
    sumRssKb: median(ok.map((s) => s.sumRssKb)),
    runs: samples.length,
    failed: samples.length - ok.length,
  };
}

const sec = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(ms < 10_000 ? 2 : 1) : '—');
const mb = (kb: number) => (Number.isFinite(kb) ? (kb / 1024).toFixed(0) : '—');
export const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) : '—');

/**
 * One markdown table: per scenario, a line per tool with its medians, and for every tool other
 * than the scenario's first (hardfleet) the wall and CPU ratios hardfleet ÷ that tool.
 */
export function resultsTable(rows: Row[]): string {
  const head = '| scenario | tool | runs | wall s | CPU s | RSS max MB | RSS Σ MB | hardfleet ÷ tool (wall) | hardfleet ÷ tool (CPU) |';
  const sep = '|---|---|--:|--:|--:|--:|--:|--:|--:|';
  const lines = [head, sep];
  const base = new Map<string, Medians>();
  for (const r of rows) {
    const m = medians(r.samples);
    if (!base.has(r.scenario)) base.set(r.scenario, m);
    const b = base.get(r.scenario)!;
    const first = b === m;
    const runs = m.failed ? `${m.runs} (${m.failed} failed)` : String(m.runs);
    lines.push(`| ${r.scenario} | ${r.tool} | ${runs} | ${sec(m.wallMs)} | ${sec(m.cpuMs)} | ${mb(m.maxRssKb)} | ${mb(m.sumRssKb)} | ${first ? '' : ratio(b.wallMs, m.wallMs)} | ${first ? '' : ratio(b.cpuMs, m.cpuMs)} |`);
  }
  return lines.join('\n') + '\n';
}

export interface Target {
  what: string;
  /** The measured value, e.g. a ratio or MB. */
  value: number;
  limit: number;
  unit: '×' | 'MB' | 's';
}

export function targetsTable(targets: Target[]): string {
  const lines = ['| target | measured | limit | met |', '|---|--:|--:|---|'];
  for (const t of targets) {
    const v = Number.isFinite(t.value) ? (t.unit === '×' ? t.value.toFixed(2) : t.value.toFixed(t.unit === 's' ? 1 : 0)) : '—';
    const met = Number.isFinite(t.value) ? (t.value <= t.limit ? 'yes' : '**no**') : 'not measured';
    lines.push(`| ${t.what} | ${v}${t.unit === '×' ? '' : ` ${t.unit}`} | ${t.limit}${t.unit === '×' ? '' : ` ${t.unit}`} | ${met} |`);
  }
  return lines.join('\n') + '\n';
}
