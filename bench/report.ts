/**
 * bench/results.md: the bench owns the part between its two markers (date, machine, versions,
 * tables, end-state check); what people wrote around it (the analysis) is kept.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { medians, resultsTable, targetsTable, type Row, type Target } from './stats.js';

export const BEGIN = '<!-- bench:begin (written by npm run bench; edit outside these markers) -->';
export const END = '<!-- bench:end -->';

function find(rows: Row[], scenario: string, tool: string) {
  const r = rows.find((x) => x.scenario.startsWith(scenario) && x.tool.startsWith(tool));
  return r ? medians(r.samples) : undefined;
}

export function targets(rows: Row[]): Target[] {
  const out: Target[] = [];
  const vs = (what: string, scenario: string, other: string, limit: number) => {
    const a = find(rows, scenario, 'hardfleet');
    const b = find(rows, scenario, other);
    if (a && b) out.push({ what, value: a.wallMs / b.wallMs, limit, unit: '×' });
  };
  for (const mode of ['cold', 'warm']) {
    vs(`s1, 50 hosts: hardfleet ÷ Ansible ${mode}`, 's1: ad-hoc `true`, 50 ', `Ansible (${mode})`, 0.4);
    vs(`s1, 200 hosts: hardfleet ÷ Ansible ${mode}`, 's1: ad-hoc `true`, 200 ', `Ansible (${mode})`, 0.3);
  }
  vs('s1, 50 hosts: hardfleet ÷ bare ssh2 loop', 's1: ad-hoc `true`, 50 ', 'bare ssh2', 1.2);
  vs('s1, 200 hosts: hardfleet ÷ bare ssh2 loop', 's1: ad-hoc `true`, 200 ', 'bare ssh2', 1.2);
  const rss = find(rows, 'peak RSS', 'hardfleet');
  if (rss) out.push({ what: 'hardfleet peak RSS, `run` on 500 light hosts', value: rss.maxRssKb / 1024, limit: 150, unit: 'MB' });
  for (const mode of ['cold', 'warm']) {
    vs(`s3: hardfleet ÷ Ansible ${mode}`, 's3', `Ansible (${mode})`, 0.5);
    vs(`s4: hardfleet ÷ Ansible ${mode}`, 's4', `Ansible (${mode})`, 0.25);
    vs(`s5: hardfleet ÷ Ansible ${mode}`, 's5', `Ansible (${mode})`, 0.5);
  }
  const full = find(rows, 'lab up: 10 full', 'hardfleet');
  if (full) out.push({ what: 'lab up, 10 full hosts', value: full.wallMs / 1000, limit: 60, unit: 's' });
  const light = find(rows, 'lab up: 200 light', 'hardfleet');
  if (light) out.push({ what: 'lab up, 200 light hosts', value: light.wallMs / 1000, limit: 60, unit: 's' });
  return out;
}

export interface RunInfo {
  started: Date;
  minutes: number;
  versions: Record<string, string>;
  otherLabs: string[];
  loads: number[];
  pairs: number;
}

function cpuModel(): string {
  return cpus()[0]?.model.trim() ?? 'unknown CPU';
}

function git(...args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '?';
  }
}

export function renderResults(rows: Row[], info: RunInfo, endState: string[], notes: string[], hardfleetVersion: string): string {
  const shared = info.otherLabs.length
    ? `**shared**: other engineers' labs were up during the run (${info.otherLabs.join(', ')}); load average ${info.loads.map((l) => l.toFixed(2)).join(' → ')}`
    : `not shared as far as the bench could tell (no other lab up); load average ${info.loads.map((l) => l.toFixed(2)).join(' → ')}`;
  return [
    BEGIN,
    `Run of ${info.started.toISOString().replace('T', ' ').slice(0, 16)} UTC, ${info.minutes.toFixed(0)} minutes, ${info.pairs} pair(s) per scenario (A B A B…: hardfleet, then Ansible cold, then warm).`,
    '',
    `- machine: ${cpus().length} cores (${cpuModel()}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory; ${shared}`,
    `- hardfleet ${hardfleetVersion} (commit ${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', 'src').length ? ', src/ modified' : ''}), Node ${process.version}`,
    `- ${info.versions.ansible}`,
    `- ${info.versions.openssh}`,
    '',
    'Medians. Wall: the bench\'s clock around the command. CPU: user+sys of every process of the command (GNU time), plus, for',
    'Ansible, the CPU its detached ControlPersist ssh masters used during the run. RSS max: the largest process (kernel ru_maxrss);',
    'RSS Σ: peak of the summed resident sets of the command\'s process tree, sampled every 200 ms (the detached masters not included).',
    '',
    resultsTable(rows),
    '### Targets (issue 5, 2 and 3)',
    '',
    targetsTable(targets(rows)),
    ...(endState.length ? ['### Same end state (read out-of-band with `lab console`)', '', ...endState.map((l) => `- ${l}`), ''] : []),
    ...(notes.length ? ['### Notes of this run', '', ...notes.map((l) => `- ${l}`), ''] : []),
    END,
  ].join('\n');
}

/** Put the bench's part into `file`, keeping what is outside the markers. */
export function writeResults(file: string, body: string): void {
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark: hardfleet and Ansible on the same lab fleet\n\n' + `${BEGIN}\n${END}\n`;
  const b = old.indexOf(BEGIN);
  const e = old.indexOf(END);
  const next = b >= 0 && e > b ? old.slice(0, b) + body + old.slice(e + END.length) : `${old.trimEnd()}\n\n${body}\n`;
  writeFileSync(file, next);
}

export const loadNow = () => loadavg()[0]!;
