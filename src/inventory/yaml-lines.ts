/**
 * YAML with line numbers: js-yaml builds plain objects, which forget where they came from. Its
 * `listener` reports every node (mapping keys included) as it opens and closes, so we rebuild a
 * tree of positions beside the data and answer "which line is this value on?" for error messages.
 */
import { load, YAMLException } from 'js-yaml';

export type YamlPath = ReadonlyArray<string | number>;

export interface YamlDocument {
  data: unknown;
  /** 1-based line of the value at `path` (for a mapping entry: the line of its key); falls back to the nearest parent. */
  lineOf(path: YamlPath): number | undefined;
}

/** A YAML syntax error (duplicate keys included), with a 1-based line and, for the usual slips, what to do. */
export class YamlSyntaxError extends Error {
  constructor(message: string, readonly line: number | undefined, readonly hint?: string) {
    super(message);
  }
}

const SYNTAX_HINTS: Array<[RegExp, string]> = [
  [/duplicated mapping key/, 'a key is written twice in one mapping: merge the two entries into one'],
  [/tab characters/, 'indent with spaces: YAML does not allow tabs'],
  [/bad indentation/, 'line this entry up, with spaces, under the other entries of its mapping or list'],
  [/unknown tag !<!vault>/, 'Ansible Vault values are not supported: give the value in the clear, or pass it with -e @file'],
];

interface PosNode {
  line: number;
  children: PosNode[];
  result?: unknown;
}

interface Located {
  line: number;
  entries?: Map<string, Located>;
}

export function parseYaml(text: string): YamlDocument {
  const root: PosNode = { line: 0, children: [] };
  const stack: PosNode[] = [root];
  let data: unknown;
  try {
    data = load(text, {
      listener(event, state) {
        if (event === 'open') {
          const node: PosNode = { line: state.line, children: [] };
          stack[stack.length - 1].children.push(node);
          stack.push(node);
        } else {
          const node = stack.pop();
          if (node) node.result = state.result;
        }
      },
    });
  } catch (e) {
    if (e instanceof YAMLException) {
      const line = e.mark?.line === undefined ? undefined : e.mark.line + 1;
      throw new YamlSyntaxError(`YAML syntax: ${e.reason}`, line, SYNTAX_HINTS.find(([re]) => re.test(e.reason))?.[1]);
    }
    throw e;
  }
  checkAliases(data);
  const top = root.children[0];
  const located: Located | undefined = top ? locate(top, top.line) : undefined;

  return {
    data,
    lineOf(path) {
      if (!located) return undefined;
      let at = located;
      for (const key of path) {
        const next = at.entries?.get(String(key));
        if (!next) break;
        at = next;
      }
      return at.line + 1;
    },
  };
}

/**
 * A mapping's children come in key, value pairs; a sequence's children are its items. A mapping
 * entry is located at its key's line: a block value opens on the key's line anyway, and the key
 * is what the operator looks for.
 */
function locate(node: PosNode, line: number): Located {
  const out: Located = { line };
  const r = node.result;
  if (Array.isArray(r)) {
    if (node.children.length === r.length) {
      out.entries = new Map(node.children.map((c, i) => [String(i), locate(c, c.line)]));
    }
  } else if (r !== null && typeof r === 'object' && node.children.length % 2 === 0) {
    out.entries = new Map();
    for (let i = 0; i < node.children.length; i += 2) {
      const key = node.children[i];
      const value = node.children[i + 1];
      out.entries.set(String(key.result), locate(value, key.line));
    }
  }
  return out;
}

/** More values than any real inventory or playbook holds once its aliases are expanded. */
export const MAX_EXPANDED_VALUES = 200_000;

/**
 * js-yaml gives an alias the very object its anchor names: an alias inside its own anchor makes a
 * cycle, and aliases of aliases (a "billion laughs") expand to more values than memory holds
 * once the inventory is walked. Both are refused here, before anything walks the data.
 */
function checkAliases(data: unknown): void {
  let seen = 0;
  const ancestors = new Set<object>();
  const walk = (v: unknown): void => {
    if (++seen > MAX_EXPANDED_VALUES) {
      throw new YamlSyntaxError(`YAML aliases expand to more than ${MAX_EXPANDED_VALUES} values`, undefined, 'write the values out, or use fewer nested aliases (*name) of anchors (&name)');
    }
    if (v === null || typeof v !== 'object') return;
    if (ancestors.has(v)) throw new YamlSyntaxError('YAML alias inside its own anchor: the value would contain itself', undefined, 'an alias (*name) cannot appear inside the value its anchor (&name) marks');
    ancestors.add(v);
    for (const child of Array.isArray(v) ? v : Object.values(v)) walk(child);
    ancestors.delete(v);
  };
  walk(data);
}
