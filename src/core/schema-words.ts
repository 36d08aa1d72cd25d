/**
 * zod's default messages in an operator's words: what the value must be and what it is instead
 * ("must be a mapping, not a list"), never "Invalid input: expected record, received array".
 * Passed per parse (`safeParse(data, { error: schemaWords })`), so a message a schema sets itself
 * still wins.
 */
import type { z } from 'zod';

const EXPECTED: Record<string, string> = {
  object: 'a mapping',
  record: 'a mapping',
  map: 'a mapping',
  array: 'a list',
  tuple: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  bigint: 'a whole number',
  boolean: 'true or false',
  null: 'empty',
};

/** What a value is, in a message: the value itself when short, else its kind. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'empty';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 40 ? `${s.slice(0, 37)}…` : s;
}

function expected(kind: string): string {
  return EXPECTED[kind] ?? kind;
}

export function schemaWords(iss: z.core.$ZodRawIssue): string | undefined {
  const input = iss.input;
  switch (iss.code) {
    case 'invalid_type':
      return input === undefined ? `is required (${expected(iss.expected)})` : `must be ${expected(iss.expected)}, not ${describeValue(input)}`;
    case 'invalid_union': {
      const kinds = [...new Set(iss.errors.flatMap((branch) => branch.filter((e) => e.code === 'invalid_type').map((e) => expected((e as { expected: string }).expected))))];
      if (!kinds.length) return undefined;
      const list = kinds.length > 1 ? `${kinds.slice(0, -1).join(', ')} or ${kinds[kinds.length - 1]}` : kinds[0];
      return `must be ${list}, not ${describeValue(input)}`;
    }
    case 'too_small':
    case 'too_big': {
      const small = iss.code === 'too_small';
      const bound = small ? (iss as { minimum: number | bigint }).minimum : (iss as { maximum: number | bigint }).maximum;
      const inclusive = iss.inclusive !== false;
      if (iss.origin === 'array') return `must list ${small ? 'at least' : 'at most'} ${bound} item${Number(bound) === 1 ? '' : 's'}`;
      if (iss.origin === 'string') return small ? (Number(bound) === 1 ? 'must not be empty' : `must be at least ${bound} characters long`) : `must be at most ${bound} characters long`;
      const word = small ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
      return `must be ${word} ${bound}, not ${describeValue(input)}`;
    }
    case 'invalid_key': {
      // A key of a mapping that its schema refuses: say what the key must be.
      const inner = (iss as { issues?: Array<{ message?: string }> }).issues?.find((e) => e.message)?.message;
      return inner ? `${inner}, not ${describeValue(input)}` : undefined;
    }
    case 'invalid_value':
      return `must be one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}, not ${describeValue(input)}`;
    default:
      return undefined;
  }
}
