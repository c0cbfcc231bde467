// Resource limits through prlimit64 (setrlimit and getrlimit are prlimit on pid 0).
import * as c from '../abi/constants.js';
import * as s from '../abi/structs.js';
import { check } from '../errors.js';
import { libc } from '../libc.js';

/** A limit; `Infinity` stands for RLIM_INFINITY. */
export interface Rlimit {
  soft: number;
  hard: number;
}

function resourceNumber(resource: c.RlimitName | number): number {
  const n = typeof resource === 'number' ? resource : c.RLIMITS.indexOf(resource);
  if (n < 0 || n >= c.RLIMITS.length) throw new RangeError(`unknown resource limit ${JSON.stringify(resource)}`);
  return n;
}

const decode = (v: bigint): number => (v === c.RLIM_INFINITY ? Infinity : Number(v));
const encode = (v: number): bigint => (v === Infinity ? c.RLIM_INFINITY : BigInt(v));

/** prlimit(pid, resource, newLimit?): sets the limit when given, and returns the previous one. */
export function prlimit(pid: number, resource: c.RlimitName | number, newLimit?: Rlimit): Rlimit {
  const n = resourceNumber(resource);
  let input: Buffer | null = null;
  if (newLimit) {
    input = Buffer.alloc(s.rlimit.size);
    input.writeBigUInt64LE(encode(newLimit.soft), s.rlimit.rlim_cur);
    input.writeBigUInt64LE(encode(newLimit.hard), s.rlimit.rlim_max);
  }
  const old = Buffer.alloc(s.rlimit.size);
  check(libc.prlimit(pid, n, input, old), 'prlimit', () => {
    const name = c.RLIMITS[n];
    return newLimit ? `${pid}, ${name}, ${newLimit.soft}:${newLimit.hard}` : `${pid}, ${name}`;
  });
  return { soft: decode(old.readBigUInt64LE(s.rlimit.rlim_cur)), hard: decode(old.readBigUInt64LE(s.rlimit.rlim_max)) };
}

export function getrlimit(resource: c.RlimitName | number): Rlimit {
  return prlimit(0, resource);
}

export function setrlimit(resource: c.RlimitName | number, limit: Rlimit): void {
  prlimit(0, resource, limit);
}

/** Every limit of `pid` (0: this process), by name. */
export function allRlimits(pid = 0): Record<c.RlimitName, Rlimit> {
  return Object.fromEntries(c.RLIMITS.map((name) => [name, prlimit(pid, name)])) as Record<c.RlimitName, Rlimit>;
}
