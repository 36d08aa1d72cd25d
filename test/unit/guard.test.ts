/**
 * The on-host scripts of the guard, run by a local shell in a scratch folder: what arming writes,
 * what it must not run yet, and what the rollback restores.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { armScript, disarmScript, rollbackScript } from '../../src/engine/guard.js';

let tmp = '';
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'hf-guard-'));
  // systemd-run stand-in: records its arguments instead of arming a timer.
  writeFileSync(join(tmp, 'systemd-run'), `#!/bin/sh\necho "$@" > ${tmp}/armed\n`);
  chmodSync(join(tmp, 'systemd-run'), 0o755);
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const sh = (script: string) => execFileSync('sh', ['-c', script], { encoding: 'utf8', env: { ...process.env, PATH: `${tmp}:${process.env.PATH}` } });

describe('guard scripts', () => {
  // The firewall's rollback restores chains through here-documents, as any step's may.
  const extra = [`cat > ${'"$d"'}/restored <<'HARDFLEET_EOF'\nchain rules\nHARDFLEET_EOF\ntouch ${'"$d"'}/extra-ran`];

  it('arms without running any of the rollback, whatever here-documents the rollback holds', () => {
    const dir = join(tmp, 'g');
    const file = join(tmp, 'sshd_config');
    writeFileSync(file, 'before\n');
    sh(armScript(dir, 'hardfleet-rollback-x', [file], extra, 60, true));
    expect(readFileSync(join(dir, 'rollback.sh'), 'utf8')).toBe(rollbackScript(dir, [file], extra));
    expect(existsSync(join(dir, 'extra-ran')), 'the rollback ran at arm time').toBe(false);
    expect(readFileSync(join(tmp, 'armed'), 'utf8')).toContain('--on-active=60s --timer-property=AccuracySec=1s');

    writeFileSync(file, 'after\n');
    sh(`/bin/sh ${dir}/rollback.sh`);
    expect(readFileSync(file, 'utf8')).toBe('before\n');
    expect(readFileSync(join(dir, 'restored'), 'utf8')).toBe('chain rules\n');
    expect(existsSync(join(dir, 'rolled-back'))).toBe(true);
    expect(sh(disarmScript(dir, 'hardfleet-rollback-x', true)).trim()).toBe('rolled-back');
  });

  it('disarming before the window ends leaves the change and nothing of the guard', () => {
    const dir = join(tmp, 'g');
    const file = join(tmp, 'new-file');
    sh(armScript(dir, 'hardfleet-rollback-x', [file], extra, 60, true));
    writeFileSync(file, 'made by the change\n');
    expect(sh(disarmScript(dir, 'hardfleet-rollback-x', true)).trim()).toBe('disarmed');
    expect(existsSync(dir)).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('made by the change\n');
  });
});
