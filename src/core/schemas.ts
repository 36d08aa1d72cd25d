/**
 * Values that reach iptables rules and config files, checked where the YAML is read: a string
 * with a newline or a shell word in it must never get as far as a host.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

/** A TCP/UDP port; "443" is taken as 443, as Ansible users write it. */
export const port = z.preprocess(
  (v) => (typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v),
  z.number().int().min(1).max(65535),
);

/** An IPv4 or IPv6 address, or a network in CIDR notation. */
export const ipSource = z.string().refine((s) => {
  const [addr, prefix, ...rest] = s.split('/');
  if (rest.length || !addr) return false;
  const family = isIP(addr);
  if (!family) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}, 'must be an IPv4 or IPv6 address or network (198.51.100.0/24, 2001:db8::/32)');

/** A network interface name as iptables takes it (Linux allows 15 characters; + is iptables' wildcard). */
export const interfaceName = z.string().regex(/^[A-Za-z0-9_.@:-]{1,15}\+?$/, 'must be an interface name such as eth0 or ens3 (eth+ for all eth*)');

/** One line of a config file: no line breaks or other control characters. */
export const configValue = z.union([z.string(), z.number()]).transform(String).refine((s) => s.trim() !== '' && !/[\u0000-\u001f\u007f]/.test(s), 'must be a single line of text (no line breaks)');
