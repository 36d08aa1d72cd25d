/** Writing the run's report: the recap for people, JSON for machines, the exit code for scripts. */
import { writeFileSync } from 'node:fs';
import { exitCode, type RunReport } from '../engine/report.js';
import { recap } from '../ui/recap.js';

export function finishRun(report: RunReport, opts: { json?: string; diff: boolean; outputShown?: boolean }): number {
  const human = () => recap(report, { diff: opts.diff, outputShown: opts.outputShown });
  const json = JSON.stringify(report, null, 2) + '\n';
  if (opts.json === '-') process.stdout.write(json);
  else {
    if (opts.json) writeFileSync(opts.json, json);
    process.stdout.write(human() + '\n');
  }
  if (opts.json === '-') process.stderr.write(human() + '\n');
  return exitCode(report);
}
