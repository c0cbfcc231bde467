// capget/capset with the v3 ABI (two 32-bit halves per set), as bit masks and names.
import * as c from '../abi/constants.js';
import * as s from '../abi/structs.js';
import { check } from '../errors.js';
import { libc } from '../libc.js';

export interface CapabilitySets {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}

function header(pid: number): Buffer {
  const h = Buffer.alloc(s.user_cap_header.size);
  h.writeUInt32LE(c._LINUX_CAPABILITY_VERSION_3, s.user_cap_header.version);
  h.writeInt32LE(pid, s.user_cap_header.pid);
  return h;
}

const FIELDS = ['effective', 'permitted', 'inheritable'] as const;

/** The capability sets of `pid` (0: the calling thread). */
export function capget(pid = 0): CapabilitySets {
  const data = Buffer.alloc(2 * s.user_cap_data.size);
  check(libc.capget(header(pid), data), 'capget', () => `${pid}`);
  const sets = { effective: 0n, permitted: 0n, inheritable: 0n };
  for (const field of FIELDS) {
    const low = data.readUInt32LE(s.user_cap_data[field]);
    const high = data.readUInt32LE(s.user_cap_data.size + s.user_cap_data[field]);
    sets[field] = (BigInt(high) << 32n) | BigInt(low);
  }
  return sets;
}

/** capset's two arguments, the v3 header and both halves of each set: also what a spawn step passes. */
export function encodeCapabilitySets(sets: CapabilitySets, pid = 0): { header: Buffer; data: Buffer } {
  const data = Buffer.alloc(2 * s.user_cap_data.size);
  for (const field of FIELDS) {
    data.writeUInt32LE(Number(sets[field] & 0xffffffffn), s.user_cap_data[field]);
    data.writeUInt32LE(Number(sets[field] >> 32n), s.user_cap_data.size + s.user_cap_data[field]);
  }
  return { header: header(pid), data };
}

export function capset(sets: CapabilitySets): void {
  const { header: h, data } = encodeCapabilitySets(sets);
  check(libc.capset(h, data), 'capset', () => `effective 0x${sets.effective.toString(16)}`);
}

export function capabilityNames(mask: bigint): c.CapabilityName[] {
  return c.CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

export function capabilityMask(names: readonly string[]): bigint {
  let mask = 0n;
  for (const name of names) {
    const bit = c.CAPABILITIES.indexOf(name.toUpperCase() as c.CapabilityName);
    if (bit < 0) throw new RangeError(`unknown capability ${JSON.stringify(name)}`);
    mask |= 1n << BigInt(bit);
  }
  return mask;
}
