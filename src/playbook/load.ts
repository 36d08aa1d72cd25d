/**
 * Playbooks: what a production Docker host looks like, as YAML. Parsed once into validated types
 * (zod), every error with file and line; unknown steps and settings are errors, not surprises.
 */
import { readInputFile } from '../core/files.js';
import { z } from 'zod';
import { PlaybookError } from '../core/errors.js';
import { parseYaml, YamlSyntaxError, type YamlDocument } from '../inventory/yaml-lines.js';
import { steps as registry } from '../steps/index.js';
import type { StepDefinition } from '../steps/types.js';
import { parseSerial, type SerialSpec } from '../engine/batching.js';
import { schemaWords } from '../core/schema-words.js';
import { port } from '../core/schemas.js';

const StepEntry = z
  .object({
    id: z.string(),
    name: z.string().optional(),
    tags: z.array(z.string()).optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

const PlaybookSchema = z
  .object({
    name: z.string().min(1),
    hosts: z.string().min(1).default('all'),
    serial: z.union([z.number(), z.string(), z.array(z.union([z.number(), z.string()]))]).optional(),
    max_fail_percent: z.number().min(0).max(100).optional(),
    max_fail: z.number().int().min(0).optional(),
    forks: z.number().int().min(1).max(1000).optional(),
    guard_window: z.number().int().min(15).max(3600).default(60),
    vars: z.record(z.string(), z.unknown()).default({}),
    steps: z.array(StepEntry).min(1),
  })
  .strict();

const publicKey = z.string().regex(/^(ssh-|ecdsa-|sk-)\S+ [A-Za-z0-9+/=]+/, 'an OpenSSH public key line');

/**
 * Vars the default steps read; others pass through for the operator's own use. Checked on the
 * playbook's vars and, before a rollout, on each host's merged vars: a step reading a bad value
 * would skip it silently (sshd_port 99999 moved nothing) or refuse it only once on the host.
 */
export const KnownVars = z
  .object({
    admin_user: z.string().regex(/^[a-z_][a-z0-9_.-]{0,31}$/, 'a Linux user name (lowercase letters, digits, _ . and -)'),
    // One key as a plain string is what `-e admin_keys="ssh-ed25519 …"` gives.
    admin_keys: z.union([publicKey, z.array(publicKey)]),
    admin_private_key_file: z.string().min(1),
    sshd_port: port,
  })
  .partial()
  .passthrough();

/** The first problem in vars the steps read, as `key: what is wrong`; undefined when they are fine. */
export function knownVarsProblem(vars: Record<string, unknown>): string | undefined {
  const r = KnownVars.safeParse(vars, { error: schemaWords });
  if (r.success) return undefined;
  const issue = r.error.issues[0];
  return issueText(issue.path.filter((x): x is string | number => typeof x !== 'symbol'), issue.message);
}

export interface PlaybookStep {
  id: string;
  name: string;
  tags: string[];
  settings: Record<string, unknown>;
  def: StepDefinition;
}

export interface Playbook {
  file: string;
  name: string;
  hosts: string;
  serial?: SerialSpec;
  maxFailPercent?: number;
  maxFail?: number;
  forks?: number;
  guardWindow: number;
  vars: Record<string, unknown>;
  steps: PlaybookStep[];
}

function fail(doc: YamlDocument | undefined, file: string, path: ReadonlyArray<string | number>, message: string, hint?: string): never {
  throw new PlaybookError(message, file, doc?.lineOf(path), hint);
}

/** `steps[2].settings.allow: must be a list` */
function issueText(path: ReadonlyArray<PropertyKey>, message: string): string {
  const at = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
  return `${at ? `${at}: ` : ''}${message}`;
}

export function loadPlaybook(file: string): Playbook {
  let text: string;
  try {
    text = readInputFile(file);
  } catch (e) {
    throw new PlaybookError(`cannot read the playbook: ${(e as Error).message}`, file, undefined, 'pass the playbook path, e.g. playbooks/docker-host.yml');
  }
  return parsePlaybook(text, file);
}

export function parsePlaybook(text: string, file: string): Playbook {
  let doc: YamlDocument;
  try {
    doc = parseYaml(text);
  } catch (e) {
    if (e instanceof YamlSyntaxError) throw new PlaybookError(e.message, file, e.line, e.hint);
    throw e;
  }
  if (doc.data === null || typeof doc.data !== 'object' || Array.isArray(doc.data)) {
    fail(doc, file, [], 'a playbook is a YAML mapping with name, vars and steps', 'see playbooks/docker-host.yml');
  }
  const parsed = PlaybookSchema.safeParse(doc.data, { error: schemaWords });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const msg = issue.code === 'unrecognized_keys' ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` : issue.message;
    const at = issue.code === 'unrecognized_keys' ? [...path, issue.keys[0]] : path;
    const hint = issue.code !== 'unrecognized_keys' ? undefined : path.length ? `a step holds ${Object.keys(StepEntry.shape).join(', ')}` : `a playbook holds ${Object.keys(PlaybookSchema.shape).join(', ')}`;
    fail(doc, file, at, issueText(path, msg), hint);
  }
  const p = parsed.data;
  const vars = KnownVars.safeParse(p.vars, { error: schemaWords });
  if (!vars.success) {
    const issue = vars.error.issues[0];
    const path = issue.path.filter((x): x is string | number => typeof x !== 'symbol');
    fail(doc, file, ['vars', ...path], issueText(['vars', ...path], issue.message));
  }
  const seen = new Set<string>();
  const steps = p.steps.map((s, i): PlaybookStep => {
    const def = registry[s.id];
    if (!def) {
      fail(doc, file, ['steps', i, 'id'], `unknown step "${s.id}"`, `known steps: ${Object.keys(registry).join(', ')}`);
    }
    if (seen.has(s.id)) fail(doc, file, ['steps', i, 'id'], `step "${s.id}" appears twice`, 'give each step once, with all its settings');
    seen.add(s.id);
    // Unknown settings are typos until proven otherwise: refuse them.
    const schema = def.settingsSchema instanceof z.ZodObject ? def.settingsSchema.strict() : def.settingsSchema;
    const settings = schema.safeParse(s.settings ?? {}, { error: schemaWords });
    if (!settings.success) {
      const issue = settings.error.issues[0];
      const path = issue.path.filter((x): x is string | number => typeof x !== 'symbol');
      const known = def.settingsSchema instanceof z.ZodObject ? Object.keys(def.settingsSchema.shape) : [];
      const unknown = issue.code === 'unrecognized_keys';
      const msg = unknown ? `step ${s.id}: unknown setting ${issue.keys.join(', ')}` : `step ${s.id}: ${issueText(['settings', ...path], issue.message)}`;
      const at = unknown ? [...path, issue.keys[0]] : path;
      fail(doc, file, ['steps', i, 'settings', ...at], msg, unknown ? `settings of ${s.id}: ${known.join(', ') || '(none)'}` : undefined);
    }
    return { id: s.id, name: s.name ?? s.id, tags: [...new Set([...(s.tags ?? def.tags), s.id])], settings: (settings.data ?? {}) as Record<string, unknown>, def };
  });
  const serial = p.serial === undefined ? undefined : parseSerial(p.serial, { file, line: doc.lineOf(['serial']) });
  return {
    file, name: p.name, hosts: p.hosts, serial, maxFailPercent: p.max_fail_percent, maxFail: p.max_fail, forks: p.forks,
    guardWindow: p.guard_window, vars: p.vars, steps,
  };
}

/** --tags / --skip-tags, as in Ansible: a step runs when it has one of `tags` and none of `skip`. */
export function selectSteps(steps: PlaybookStep[], tags: string[] = [], skip: string[] = []): PlaybookStep[] {
  const known = new Set(steps.flatMap((s) => s.tags));
  for (const t of [...tags, ...skip]) {
    if (!known.has(t) && t !== 'all') {
      throw new PlaybookError(`no step has the tag "${t}"`, undefined, undefined, `tags in this playbook: ${[...known].join(', ')}`);
    }
  }
  const chosen = steps.filter((s) => (tags.length === 0 || tags.includes('all') || s.tags.some((t) => tags.includes(t))) && !skip.includes('all') && !s.tags.some((t) => skip.includes(t)));
  if (!chosen.length) {
    const asked = [...tags.map((t) => `--tags ${t}`), ...skip.map((t) => `--skip-tags ${t}`)].join(' ');
    throw new PlaybookError(`no step left to run${asked ? ` with ${asked}` : ''}`, undefined, undefined, `tags in this playbook: ${[...known].join(', ')}`);
  }
  return chosen;
}
