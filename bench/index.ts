/**
 * `npm run bench`: hardfleet and Ansible side by side on the same lab fleet (issue 5). Brings the
 * bench labs up, runs every scenario in pairs, prints the table of medians and writes it to
 * bench/results.md (a partial run writes dist/bench/results-partial.md unless --out says where).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, SCENARIOS } from './args.js';
import { coldStart, versions } from './ansible.js';
import { log, type Bench } from './context.js';
import { FULL_LAB, runFull } from './full.js';
import { labDown, otherLabs } from './lab.js';
import { LIGHT_LAB, runLight } from './light.js';
import { REPO } from './paths.js';
import { loadNow, renderResults, writeResults } from './report.js';
import { resultsTable } from './stats.js';

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('the bench boots labs: run it as root');
  const started = new Date();
  const dir = `/tmp/hfbench-${process.pid}`;
  mkdirSync(dir, { recursive: true });
  const b: Bench = { args, dir, cpDir: join(dir, 'cp'), rows: [], endState: [], notes: [] };
  // Ctrl-C would leave the bench's labs up (the finally below never runs): take them down first.
  process.once('SIGINT', () => {
    log('interrupted: taking the bench labs down');
    void Promise.allSettled([labDown(LIGHT_LAB), labDown(FULL_LAB)]).then(() => process.exit(130));
  });
  const loads = [loadNow()];
  const others = new Set(otherLabs());
  log(`scenarios ${[...args.scenarios].join(',')}, ${args.pairs} pair(s); logs in ${dir}${others.size ? `; other labs up: ${[...others].join(', ')}` : ''}`);
  try {
    await runLight(b);
    if (!args.keep) await labDown(LIGHT_LAB).catch(() => undefined);
    loads.push(loadNow());
    for (const l of otherLabs()) others.add(l);
    await runFull(b);
  } finally {
    await coldStart(b.cpDir);
    if (!args.keep) {
      await labDown(LIGHT_LAB).catch(() => undefined);
      await labDown(FULL_LAB).catch(() => undefined);
    }
  }
  loads.push(loadNow());
  for (const l of otherLabs()) others.add(l);
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  const body = renderResults(b.rows, {
    started, minutes: (Date.now() - started.getTime()) / 60_000, versions: versions(), otherLabs: [...others], loads, pairs: args.pairs,
  }, b.endState, b.notes, pkg.version);
  const complete = SCENARIOS.every((s) => args.scenarios.has(s));
  const out = args.out ?? (complete ? join(REPO, 'bench', 'results.md') : join(REPO, 'dist', 'bench', 'results-partial.md'));
  writeResults(out, body);
  process.stdout.write(`\n${resultsTable(b.rows)}\n`);
  for (const l of b.endState) process.stdout.write(`${l}\n`);
  log(`results written to ${out}`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
