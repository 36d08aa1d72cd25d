/** The bench's pure pieces: medians and tables, inventories, end-state comparison, Ansible's recap. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recapChanged } from '../../bench/ansible.js';
import { parseArgs } from '../../bench/args.js';
import { diffStates, parseState } from '../../bench/endstate.js';
import { benchInventory, parseLabInventory } from '../../bench/inventory.js';
import { BEGIN, END, writeResults } from '../../bench/report.js';
import { median, medians, resultsTable, targetsTable, type Sample } from '../../bench/stats.js';
import { load } from 'js-yaml';

const s = (wallMs: number, ok = true): Sample => ({ wallMs, cpuMs: wallMs / 2, maxRssKb: 1024, sumRssKb: 2048, ok });

describe('bench stats', () => {
  it('takes medians of odd and even counts, over successful runs only', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    const m = medians([s(1000), s(9000, false), s(3000)]);
    expect(m.wallMs).toBe(2000);
    expect(m.failed).toBe(1);
  });

  it('gives each tool its ratio to the scenario\'s first row (hardfleet)', () => {
    const t = resultsTable([
      { scenario: 'x', tool: 'hardfleet', samples: [s(1000)] },
      { scenario: 'x', tool: 'Ansible (cold)', samples: [s(4000)] },
    ]);
    expect(t).toContain('| x | hardfleet | 1 | 1.00 | 0.50 | 1 | 2 |  |  |');
    expect(t).toContain('| x | Ansible (cold) | 1 | 4.00 | 2.00 | 1 | 2 | 0.25 | 0.25 |');
  });

  it('says whether each target is met', () => {
    const t = targetsTable([{ what: 'a', value: 0.3, limit: 0.4, unit: '×' }, { what: 'b', value: 160, limit: 150, unit: 'MB' }]);
    expect(t).toContain('| a | 0.30 | 0.4 | yes |');
    expect(t).toContain('| b | 160 MB | 150 MB | **no** |');
  });
});

describe('bench arguments', () => {
  it('takes scenario lists and pairs, refuses unknown ones', () => {
    const a = parseArgs(['--scenario', '1,rss', '--pairs=2']);
    expect([...a.scenarios]).toEqual(['1', 'rss']);
    expect(a.pairs).toBe(2);
    expect(() => parseArgs(['--scenario', '9'])).toThrow(/choose from/);
    expect(() => parseArgs(['--pairs', '0'])).toThrow(/whole number/);
  });
});

const LAB = `all:
  children:
    lab_bench:
      vars:
        ansible_user: root
        ansible_ssh_private_key_file: /k/id
        admin_user: hfadmin
        admin_private_key_file: /k/admin
      children: { web: null }
    web:
      hosts:
        web1: { ansible_host: 198.18.32.10, tags: [canary] }
        web2: { ansible_host: 198.18.32.11 }
`;

describe('bench inventories', () => {
  it('cuts the lab to N hosts, drops Ansible\'s reserved `tags`, and reaches hardened hosts as the admin', () => {
    const lab = parseLabInventory(LAB);
    expect(lab.hosts.map((h) => h.address)).toEqual(['198.18.32.10', '198.18.32.11']);
    const root = load(benchInventory(lab, 1, 'root')) as { all: { vars: Record<string, unknown>; hosts: Record<string, Record<string, unknown>> } };
    expect(Object.keys(root.all.hosts)).toEqual(['web1']);
    expect(root.all.hosts.web1).toEqual({ ansible_host: '198.18.32.10' });
    expect(root.all.vars.ansible_user).toBe('root');
    const admin = load(benchInventory(lab, 2, 'admin')) as { all: { vars: Record<string, unknown> } };
    expect(admin.all.vars).toMatchObject({ ansible_user: 'hfadmin', ansible_ssh_private_key_file: '/k/admin', ansible_become: true });
    expect(() => benchInventory(lab, 3, 'root')).toThrow(/2 hosts/);
  });
});

describe('bench end state', () => {
  const out = (extra: string) => [
    '@@sshd@@', 'permitrootlogin no', 'usedns no', 'passwordauthentication no',
    '@@packages@@', 'sudo', 'bash', extra,
    '@@daemon-json@@', '{ "icc": false,', '  "live-restore": true }',
    '@@end@@', '',
  ].join('\n');

  it('keeps only what it compares, in a stable order', () => {
    const st = parseState(out('make'));
    expect(st.sshd).toBe('passwordauthentication no\npermitrootlogin no');
    expect(st.packages).toBe('bash\nmake\nsudo');
    expect(st['daemon-json']).toBe('{"icc":false,"live-restore":true}');
    expect(st.end).toBeUndefined();
  });

  it('names what only one of the two runs left behind', () => {
    const a = { web1: parseState(out('make')) };
    const b = { web1: parseState(out('gcc')) };
    expect(diffStates(a, a, ['hardfleet', 'Ansible'])).toEqual([]);
    expect(diffStates(a, b, ['hardfleet', 'Ansible'])).toEqual(['web1 packages: only after hardfleet: make / only after Ansible: gcc']);
  });
});

describe('bench Ansible recap', () => {
  it('adds up changed, failed and unreachable over the PLAY RECAP', () => {
    const log = 'PLAY RECAP ***\nweb1                       : ok=23   changed=0    unreachable=0    failed=0    skipped=0\nweb2                       : ok=3   changed=2    unreachable=1    failed=0    skipped=0\n';
    expect(recapChanged(log)).toEqual({ hosts: 2, changed: 2, failed: 1 });
  });
});

describe('bench results file', () => {
  it('replaces only its own part, keeping the analysis written around it', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'hf-bench-')), 'results.md');
    writeFileSync(f, `# Bench\n\nintro\n\n${BEGIN}\nold table\n${END}\n\n## Why\nanalysis\n`);
    writeResults(f, `${BEGIN}\nnew table\n${END}`);
    const text = readFileSync(f, 'utf8');
    expect(text).toContain('intro');
    expect(text).toContain('new table');
    expect(text).not.toContain('old table');
    expect(text).toContain('## Why\nanalysis');
  });
});
