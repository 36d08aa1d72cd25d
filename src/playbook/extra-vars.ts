/**
 * `--extra-vars` as Ansible takes it: `key=value`, an inline YAML/JSON mapping, or `@file.yml`.
 * Later items win. Bad input names the item (and the file and line) and what to write instead.
 */
import { readInputFile } from '../core/files.js';
import { load as loadYaml, YAMLException } from 'js-yaml';
import { UsageError } from '../core/errors.js';

function mapping(text: string, where: string, file?: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = loadYaml(text);
  } catch (e) {
    const line = file && e instanceof YAMLException ? e.mark?.line + 1 : undefined;
    throw new UsageError(`--extra-vars ${where}: not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`, file, line);
  }
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new UsageError(`--extra-vars ${where}: must be a mapping of names to values, not a ${Array.isArray(v) ? 'list' : typeof v}`, file, 1);
  }
  return v as Record<string, unknown>;
}

export function parseExtraVars(items: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of items) {
    const t = item.trim();
    if (t.startsWith('@')) {
      const file = t.slice(1);
      let text: string;
      try {
        text = readInputFile(file);
      } catch (e) {
        throw new UsageError(`--extra-vars ${item}: cannot read ${file}: ${(e as Error).message}`, file);
      }
      Object.assign(out, mapping(text, item, file));
      continue;
    }
    if (t.startsWith('{')) {
      Object.assign(out, mapping(t, item));
      continue;
    }
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(t);
    if (!m) throw new UsageError(`--extra-vars ${item}: use key=value, a YAML mapping like '{"sshd_port": 2222}', or @vars.yml`);
    out[m[1]!] = /^-?\d+$/.test(m[2]!) ? Number(m[2]) : m[2];
  }
  return out;
}
