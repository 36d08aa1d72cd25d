/**
 * One host's playbook run against fake connections: ordering of proofs around a guarded change,
 * and what happens to connections when a proof fails. The lab tests prove the same on real hosts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AuthFailedError, HostUnreachableError } from '../../src/core/errors.js';
import type { HostSpec } from '../../src/core/host.js';
import type { CommandResult, ExecOptions } from '../../src/core/remote.js';
import { runPlaybookOnHost, type Connector, type Session } from '../../src/engine/host-run.js';
import type { Playbook, PlaybookStep } from '../../src/playbook/load.js';
import { StepRefusedError, type StepDefinition } from '../../src/steps/types.js';
import { FakeRemote } from '../fixtures/steps/fake-remote.js';

const spec: HostSpec = {
  name: 'web1', address: '198.18.0.10', port: 22, user: 'root', identityFiles: ['/k'], knownHostsFiles: ['/kh'],
  become: false, tags: [], groups: [], vars: {},
};

/** A session that answers the facts script from a fixture and records the rest. */
class FakeSession extends FakeRemote implements Session {
  closed = false;
  constructor(readonly label: string, readonly log: string[]) {
    super([[/@@HF:/, { stdout: FACTS }], [/rolled-back/, { stdout: 'yes\n' }]]);
  }
  override async exec(command: string, options?: ExecOptions): Promise<CommandResult> {
    if (this.closed) throw new HostUnreachableError('web1', 'closed');
    this.log.push(`${this.label}: ${command.includes('@@HF:') ? '<facts>' : command.split('\n')[0]}`);
    return super.exec(command, options);
  }
  close(): void {
    this.closed = true;
    this.log.push(`${this.label}: close`);
  }
}

const FACTS = readFileSync(new URL('../fixtures/facts/debian12.txt', import.meta.url), 'utf8');

function guardedStep(): PlaybookStep {
  const def: StepDefinition = {
    id: 'lockout', tags: [], settingsSchema: undefined as never,
    plan: () => ({
      warnings: [],
      changes: [{ summary: 'cut ssh', guard: 'login', backupPaths: ['/etc/x'], apply: async (r) => void (await r.exec('cut-ssh')) }],
    }),
  };
  return { id: 'lockout', name: 'lockout', tags: [], settings: {}, def };
}

const playbook = (steps: PlaybookStep[]): Playbook => ({ file: 'pb.yml', name: 'pb', hosts: 'all', guardWindow: 0, vars: { admin_user: 'hfadmin', admin_private_key_file: '/adm' }, steps });

describe('runPlaybookOnHost: guarded changes', () => {
  it('proves a fresh login before and after, and disarms', async () => {
    const log: string[] = [];
    let n = 0;
    const connector: Connector = {
      open: async () => new FakeSession('main', log),
      openAs: async (_s, user) => {
        log.push(`proof ${++n} as ${user}`);
        return new FakeSession(`proof${n}`, log);
      },
    };
    const r = await runPlaybookOnHost(spec, connector, { playbook: playbook([guardedStep()]), steps: [guardedStep()], check: false, diff: false, extraVars: {}, progress: () => undefined });
    expect(r.status, r.error).toBe('changed');
    const order = log.filter((l) => /proof \d|cut-ssh|systemd-run|touch "\$d\/disarmed"|^main: d=/.test(l));
    expect(order[0]).toBe('proof 1 as hfadmin');
    expect(order.findIndex((l) => l.includes('cut-ssh'))).toBeGreaterThan(0);
    expect(order.indexOf('proof 2 as hfadmin')).toBeGreaterThan(order.findIndex((l) => l.includes('cut-ssh')));
    expect(log.filter((l) => l === 'main: close')).toHaveLength(1);
  });

  it('a failed proof waits for the rollback, reconnects, reports rolled back and closes both connections', async () => {
    const log: string[] = [];
    const sessions: FakeSession[] = [];
    let proofs = 0;
    const connector: Connector = {
      open: async () => {
        const s = new FakeSession(`main${sessions.length}`, log);
        sessions.push(s);
        return s;
      },
      openAs: async () => {
        if (++proofs > 1) throw new AuthFailedError('web1', 'refused');
        return new FakeSession('proof', log);
      },
    };
    const r = await runPlaybookOnHost(spec, connector, { playbook: playbook([guardedStep()]), steps: [guardedStep()], check: false, diff: false, extraVars: {}, progress: () => undefined });
    expect(r.status).toBe('rolled-back');
    expect(r.error).toMatch(/refused/);
    expect(sessions).toHaveLength(2);
    // the first connection survived the change (conntrack keeps it) but must not outlive the run
    expect(sessions.map((s) => s.closed)).toEqual([true, true]);
  }, 20_000);
});

describe('runPlaybookOnHost: timings', () => {
  it('reports how long the login, the facts and each step took (the bench reads where the time goes)', async () => {
    const log: string[] = [];
    const slow: PlaybookStep = {
      id: 'slow', name: 'slow', tags: [], settings: {},
      def: {
        id: 'slow', tags: [], settingsSchema: undefined as never,
        plan: () => ({ warnings: [], changes: [{ summary: 'wait', apply: () => new Promise((r) => setTimeout(r, 60)) }] }),
      },
    };
    const connector: Connector = { open: async () => new FakeSession('main', log), openAs: async () => new FakeSession('proof', log) };
    const r = await runPlaybookOnHost(spec, connector, { playbook: playbook([slow]), steps: [slow], check: false, diff: false, extraVars: {}, progress: () => undefined });
    expect(r.status, r.error).toBe('changed');
    expect(r.connectMs).toBeGreaterThanOrEqual(0);
    expect(r.factsMs).toBeGreaterThanOrEqual(0);
    expect(r.steps[0]!.ms).toBeGreaterThanOrEqual(50);
  });
});


describe('runPlaybookOnHost: refusals', () => {
  it('a step that refuses the host fails it before any earlier step changed anything', async () => {
    const log: string[] = [];
    const step = (id: string, plan: StepDefinition['plan']): PlaybookStep => ({ id, name: id, tags: [], settings: {}, def: { id, tags: [], settingsSchema: undefined as never, plan } });
    const first = step('first', () => ({ warnings: [], changes: [{ summary: 'remove gcc', apply: async (r) => void (await r.exec('remove-gcc')) }] }));
    const refuses = step('refuses', () => {
      throw new StepRefusedError('admin user hfadmin has no authorized key and admin_keys is empty', 'add a key');
    });
    const connector: Connector = { open: async () => new FakeSession('main', log), openAs: async () => new FakeSession('proof', log) };
    const r = await runPlaybookOnHost(spec, connector, { playbook: playbook([first, refuses]), steps: [first, refuses], check: false, diff: false, extraVars: {}, progress: () => undefined });
    expect(r.status).toBe('failed');
    expect(r.error).toBe('refuses: admin user hfadmin has no authorized key and admin_keys is empty; nothing was changed on this host');
    expect(r.hint).toBe('add a key');
    expect(log.some((l) => l.includes('remove-gcc'))).toBe(false);
  });
});
