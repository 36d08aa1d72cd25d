/**
 * Lab addressing. Everything lives in the benchmarking ranges 198.18.0.0/15 and 2001:2::/48, so a
 * lab can never collide with a real network; unreachable guard routes for both ranges keep any
 * packet aimed at a lab address that is not up from leaving the machine.
 *
 * A lab takes one slot (0..31): a /20 of IPv4 (4094 addresses) and a /64 of IPv6.
 */
export const GUARD_V4 = '198.18.0.0/15';
export const GUARD_V6 = '2001:2::/48';
export const MAX_SLOTS = 32;
/** Host addresses start at .10 of the slot's range; .1 is the bridge (the controller's side). */
const FIRST_HOST = 10;
export const MAX_HOSTS = 4096 - FIRST_HOST - 1;

export interface SlotNet {
  slot: number;
  bridge: string;
  bridgeV4: string;
  bridgeV6: string;
  prefixV4: number;
  prefixV6: number;
}

function v4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
const BASE_V4 = (198 << 24) + (18 << 16);

export function slotNet(slot: number): SlotNet {
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS) throw new RangeError(`lab slot ${slot} out of range 0..${MAX_SLOTS - 1}`);
  return {
    slot,
    bridge: `hfbr${slot}`,
    bridgeV4: v4(BASE_V4 + slot * 4096 + 1),
    bridgeV6: canonicalV6(`2001:2:0:${slot.toString(16)}::1`),
    prefixV4: 20,
    prefixV6: 64,
  };
}

export interface HostNet {
  index: number;
  ipv4: string;
  ipv6: string;
  /** Network namespace name (ip netns). */
  netns: string;
  /** Machine-side end of the host's veth pair; the host sees its end as eth0. */
  veth: string;
}

export function hostNet(slot: number, index: number): HostNet {
  slotNet(slot);
  if (!Number.isInteger(index) || index < 0 || index >= MAX_HOSTS) throw new RangeError(`host index ${index} out of range 0..${MAX_HOSTS - 1}`);
  const n = FIRST_HOST + index;
  return {
    index,
    ipv4: v4(BASE_V4 + slot * 4096 + n),
    ipv6: canonicalV6(`2001:2:0:${slot.toString(16)}::${n.toString(16)}`),
    netns: `hf${slot}-${index}`,
    veth: `hfv${slot}x${index}`,
  };
}

/** RFC 5952 text form: known_hosts entries match addresses as text. */
export function canonicalV6(addr: string): string {
  return new URL(`http://[${addr}]/`).hostname.slice(1, -1);
}

/** The lowest slot not in `used`. */
export function freeSlot(used: Iterable<number>): number {
  const taken = new Set(used);
  for (let s = 0; s < MAX_SLOTS; s++) if (!taken.has(s)) return s;
  throw new Error(`all ${MAX_SLOTS} lab slots are in use: take a lab down first (hardfleet lab down --name NAME)`);
}

/** True when `addr` is inside the lab ranges: the only non-loopback addresses the lab may touch. */
export function isLabAddress(addr: string): boolean {
  const m = /^198\.(\d+)\.\d+\.\d+$/.exec(addr);
  if (m) return m[1] === '18' || m[1] === '19';
  return /^2001:2:0?:/i.test(addr) || /^2001:0?0?02:0{0,4}:/i.test(addr);
}
