import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { parseFacts } from '../../src/facts/gather.js';
import type { HostFacts } from '../../src/facts/types.js';
import { steps } from '../../src/steps/index.js';
import type { PlanContext } from '../../src/steps/types.js';

interface Row {
  name: string;
  facts: string;
  patch?: Record<string, unknown>;
  vars?: Record<string, unknown>;
  settings?: Record<string, unknown>;
  expect?: string[];
  files?: string[];
  warnings?: string[];
  notApplicable?: string;
  after?: Record<string, unknown>;
}

export function loadFacts(name: string): HostFacts {
  return parseFacts(readFileSync(new URL(`../fixtures/facts/${name}.txt`, import.meta.url), 'utf8'));
}

/** Objects merge, everything else replaces. */
export function merge<T>(base: T, patch: unknown): T {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch) || !base || typeof base !== 'object' || Array.isArray(base)) return patch as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) out[k] = k in out ? merge(out[k], v) : v;
  return out as T;
}

const tables = yaml.load(readFileSync(new URL('../fixtures/steps/plans.yml', import.meta.url), 'utf8')) as Record<string, Row[]>;

for (const [stepId, rows] of Object.entries(tables)) {
  describe(`plan fixtures: ${stepId}`, () => {
    const step = steps[stepId]!;
    it('is registered', () => expect(step?.id).toBe(stepId));
    for (const row of rows) {
      it(row.name, () => {
        const ctx: PlanContext = { vars: row.vars ?? {}, settings: step.settingsSchema.parse(row.settings ?? {}) as Record<string, unknown> };
        const facts = merge(loadFacts(row.facts), row.patch ?? {});
        const plan = step.plan(facts, ctx);
        if (row.notApplicable) {
          expect(plan.notApplicable).toContain(row.notApplicable);
          return;
        }
        expect(plan.notApplicable).toBeUndefined();
        const summaries = plan.changes.map((c) => c.summary);
        expect(summaries.length, summaries.join('\n')).toBe(row.expect?.length ?? 0);
        (row.expect ?? []).forEach((re, i) => expect(summaries[i]).toMatch(new RegExp(re)));
        if (row.files) expect(plan.changes.flatMap((c) => (c.files ?? []).map((f) => f.path))).toEqual(row.files);
        for (const w of row.warnings ?? []) expect(plan.warnings.join('\n')).toContain(w);
        if (row.after) {
          const again = step.plan(merge(facts, row.after), ctx);
          expect(again.changes.map((c) => c.summary)).toEqual([]);
        }
      });
    }
  });
}
