/**
 * The shapes an inventory may take, checked once at the edge. A group holds only hosts, children
 * and vars; a host entry and a vars map hold any variable, but the ones we read for the
 * connection are type-checked where they are written, so the error points at that line.
 */
import { z } from 'zod';

/** Characters that mean nothing to a POSIX shell: what an address or a user may hold. */
export const SAFE_WORD = /^[A-Za-z0-9._:@%-]+$/;
const UNSAFE_HINT = 'only letters, digits and . _ : @ % - are allowed';

const varMap = z.record(z.string(), z.unknown(), { error: 'must be a mapping of variables' });

export const groupSchema = z.strictObject(
  {
    hosts: z.record(z.string(), z.unknown(), { error: 'hosts: must be a mapping of host names' }).nullish(),
    children: z.record(z.string(), z.unknown(), { error: 'children: must be a mapping of group names' }).nullish(),
    vars: varMap.nullish(),
  },
  { error: (iss) => (iss.code === 'unrecognized_keys' ? undefined : 'a group must be a mapping with hosts:, children: or vars:') },
);
export type GroupBody = z.infer<typeof groupSchema>;

const safeWord = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .regex(SAFE_WORD, {
      error: (iss) =>
        String(iss.input).includes('{{')
          ? `${what} ${JSON.stringify(iss.input)} is a Jinja template: hardfleet does not expand templates, write the value itself`
          : iss.input === ''
            ? `${what} is empty: give a value or leave the key out`
            : `${what} ${JSON.stringify(iss.input)} holds characters a shell would interpret (${UNSAFE_HINT})`,
    });

const port = (what: string) =>
  z.union([z.number(), z.string()], { error: `${what} must be an integer from 1 to 65535` }).check((ctx) => {
    const n = typeof ctx.value === 'string' && /^\d+$/.test(ctx.value) ? Number(ctx.value) : ctx.value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
      ctx.issues.push({ code: 'custom', input: ctx.value, message: `${what} must be an integer from 1 to 65535, not ${JSON.stringify(ctx.value)}` });
    }
  });

const path = z.string({ error: 'must be a file path' }).min(1, { error: 'must not be empty' });
const paths = z.union([path, z.array(path)], { error: 'must be a file path or a list of them' });
const bool = z.union([z.boolean(), z.enum(['yes', 'no', 'true', 'false', 'True', 'False', 'YES', 'NO'])], {
  error: 'must be true or false',
});
const tag = z.string({ error: 'tags must be strings' }).regex(/^[A-Za-z0-9_.-]+$/, { error: 'a tag may only hold letters, digits and . _ -' });

/** The variables we read; any other variable passes through untouched. */
export const varsSchema = z.looseObject({
  address: safeWord('address').optional(),
  ansible_host: safeWord('ansible_host').optional(),
  ansible_ssh_host: safeWord('ansible_ssh_host').optional(),
  user: safeWord('user').optional(),
  ansible_user: safeWord('ansible_user').optional(),
  ansible_ssh_user: safeWord('ansible_ssh_user').optional(),
  port: port('port').optional(),
  ansible_port: port('ansible_port').optional(),
  ansible_ssh_port: port('ansible_ssh_port').optional(),
  identity_file: paths.optional(),
  ansible_ssh_private_key_file: path.optional(),
  known_hosts: paths.optional(),
  tags: z.array(tag, { error: 'tags must be a list of strings, e.g. [canary, eu]' }).optional(),
  jump: safeWord('jump').optional(),
  become: bool.optional(),
  ansible_become: bool.optional(),
});
export type Vars = z.infer<typeof varsSchema>;

/** Connection settings one vars map sets, under our names. */
export interface Conn {
  address?: string;
  port?: number;
  user?: string;
  identityFiles?: string[];
  knownHostsFiles?: string[];
  tags?: string[];
  jump?: string;
  become?: boolean;
}

/** Our short names win over Ansible's when one map sets both. */
export const CONN_SOURCES: Record<keyof Conn, string[]> = {
  address: ['address', 'ansible_host', 'ansible_ssh_host'],
  port: ['port', 'ansible_port', 'ansible_ssh_port'],
  user: ['user', 'ansible_user', 'ansible_ssh_user'],
  identityFiles: ['identity_file', 'ansible_ssh_private_key_file'],
  knownHostsFiles: ['known_hosts'],
  tags: ['tags'],
  jump: ['jump'],
  become: ['become', 'ansible_become'],
};

/** Read the connection settings of a validated vars map; `resolvePath` makes file paths absolute. */
export function connOf(vars: Vars, resolvePath: (p: string) => string): { conn: Conn; keys: Partial<Record<keyof Conn, string>> } {
  const conn: Conn = {};
  const keys: Partial<Record<keyof Conn, string>> = {};
  for (const [field, names] of Object.entries(CONN_SOURCES) as Array<[keyof Conn, string[]]>) {
    const key = names.find((n) => vars[n] !== undefined && vars[n] !== null);
    if (!key) continue;
    keys[field] = key;
    const v = vars[key];
    switch (field) {
      case 'port':
        conn.port = Number(v);
        break;
      case 'become':
        conn.become = v === true || (typeof v === 'string' && /^(yes|true)$/i.test(v));
        break;
      case 'identityFiles':
      case 'knownHostsFiles':
        conn[field] = ([] as string[]).concat(v as string | string[]).map(resolvePath);
        break;
      case 'tags':
        conn.tags = v as string[];
        break;
      default:
        conn[field] = v as string;
    }
  }
  return { conn, keys };
}
