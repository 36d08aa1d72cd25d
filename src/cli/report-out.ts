/** Writing the run's report: the recap for people, JSON for machines, the exit code for scripts. */
import { accessSync, constants, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { exitCode, type RunReport } from '../engine/report.js';
import { recap } from '../ui/recap.js';

/**
 * Refuse a --json FILE that cannot be written before any host is touched: found out after the
 * rollout, it cost the recap and turned a hardened fleet into exit 1 ("bad input").
 */
export function checkJsonTarget(file: string | undefined): void {
  if (file === undefined || file === '-') return;
  const full = resolve(file);
  const stat = statOf(full);
  if (stat?.isDirectory()) throw new UsageError(`--json ${file}: is a directory`, undefined, undefined, 'give a file name, e.g. --json report.json');
  const target = stat ? full : dirname(full);
  if (!stat && !statOf(target)?.isDirectory()) {
    throw new UsageError(`--json ${file}: the folder ${target} does not exist`, undefined, undefined, 'create it first, or write the report elsewhere');
  }
  try {
    accessSync(target, constants.W_OK);
  } catch (e) {
    throw new UsageError(`--json ${file}: cannot write ${stat ? 'the file' : `in ${target}`} (${(e as NodeJS.ErrnoException).code})`);
  }
}

/** A path's stat, or nothing when it or a folder on its way does not exist (ENOTDIR: a file is in the way). */
function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (e) {
    if (['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw e;
  }
}

/** Write the report to FILE; a failure is said, never thrown: the run is over, its recap and exit code stand. */
export function writeJson(file: string, json: string): void {
  try {
    writeFileSync(file, json);
  } catch (e) {
    process.stderr.write(`error: --json ${file}: the report could not be written: ${(e as Error).message}\n`);
  }
}

export function finishRun(report: RunReport, opts: { json?: string; diff: boolean; outputShown?: boolean }): number {
  const human = () => recap(report, { diff: opts.diff, outputShown: opts.outputShown });
  const json = JSON.stringify(report, null, 2) + '\n';
  if (opts.json === '-') {
    process.stdout.write(json);
    process.stderr.write(human() + '\n');
  } else {
    process.stdout.write(human() + '\n');
    if (opts.json) writeJson(opts.json, json);
  }
  return exitCode(report);
}
