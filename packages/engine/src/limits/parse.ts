// `--memory`, `--memory-swap`, `--cpus`, `--cpu-shares` and `--pids-limit` as docker reads them, turned
// into the spec's linux.resources (the runtime writes them to the cgroup). Pure: the one host fact it
// needs (whether swap is accounted) is passed in.
import { IsolaError } from '@isola/errors';
import type { LinuxResources } from '@isola/container';

export interface LimitOptions {
  /** `--memory`: bytes with an optional b, k, m, g (t, p) suffix, binary units as docker's. */
  memory?: string;
  /** `--memory-swap`: memory plus swap, or -1 for unlimited swap. */
  memorySwap?: string;
  /** `--cpus`: a number of CPUs, e.g. 0.5. */
  cpus?: string;
  cpuShares?: string;
  /** `--pids-limit`: 0 or -1 for no limit. */
  pidsLimit?: string;
}

/** What `inspect` shows in HostConfig, docker's names and units. */
export interface Limits {
  Memory: number;
  MemorySwap: number;
  NanoCpus: number;
  CpuShares: number;
  PidsLimit: number | null;
}

const CFS_PERIOD_US = 100_000;
const MIN_MEMORY = 6 * 1024 * 1024;
const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

const bad = (flag: string, value: string, why: string) => new IsolaError('EINVAL', `invalid ${flag} "${value}": ${why}`);

/** docker's RAMInBytes: `64m`, `1.5g`, `512kb`, `1024`. */
export function parseBytes(value: string, flag = 'size'): number {
  const match = /^(\d+(?:\.\d+)?) ?([bkmgtp]?)(?:i?b)?$/i.exec(value.trim());
  if (!match) throw bad(flag, value, 'use a number with an optional b, k, m or g suffix (e.g. 64m)');
  const bytes = Math.floor(Number(match[1]) * UNITS[match[2]!.toLowerCase()]!);
  if (!Number.isSafeInteger(bytes)) throw bad(flag, value, 'too large');
  return bytes;
}

function parseInteger(value: string, flag: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw bad(flag, value, 'not an integer');
  return Number(value);
}

/** Turns the flags into linux.resources and HostConfig's figures; throws on the first bad value. */
export function parseLimits(options: LimitOptions, host: { cpus: number; swapAccounting: boolean }): { resources: LinuxResources; limits: Limits } {
  const resources: LinuxResources = {};
  const limits: Limits = { Memory: 0, MemorySwap: 0, NanoCpus: 0, CpuShares: 0, PidsLimit: null };
  if (options.memory !== undefined) {
    limits.Memory = parseBytes(options.memory, '--memory');
    if (limits.Memory < MIN_MEMORY) throw bad('--memory', options.memory, 'the minimum memory limit is 6MB');
  }
  if (options.memorySwap !== undefined) {
    const swap = options.memorySwap.trim() === '-1' ? -1 : parseBytes(options.memorySwap, '--memory-swap');
    if (!limits.Memory) throw bad('--memory-swap', options.memorySwap, 'it needs --memory too (it is memory plus swap)');
    if (swap !== -1 && swap < limits.Memory) throw bad('--memory-swap', options.memorySwap, 'it is memory plus swap, so it must be at least --memory');
    limits.MemorySwap = swap;
  } else if (limits.Memory && host.swapAccounting) {
    limits.MemorySwap = 2 * limits.Memory; // docker's default: as much swap as memory
  }
  if (limits.Memory) resources.memory = { limit: limits.Memory, ...(limits.MemorySwap ? { swap: limits.MemorySwap } : {}) };

  if (options.cpus !== undefined) {
    const value = options.cpus.trim();
    const cpus = /^\d*\.?\d+$/.test(value) ? Number(value) : NaN;
    if (!(cpus >= 0.01 && cpus <= host.cpus)) throw bad('--cpus', options.cpus, `the range is 0.01 to ${host.cpus.toFixed(2)} (this host has ${host.cpus} CPUs)`);
    limits.NanoCpus = Math.round(cpus * 1e9);
    resources.cpu = { quota: Math.round(cpus * CFS_PERIOD_US), period: CFS_PERIOD_US };
  }
  if (options.cpuShares !== undefined) {
    const shares = parseInteger(options.cpuShares, '--cpu-shares');
    if (shares !== 0 && (shares < 2 || shares > 262_144)) throw bad('--cpu-shares', options.cpuShares, 'the range is 2 to 262144 (0 for the default)');
    if (shares) {
      limits.CpuShares = shares;
      resources.cpu = { ...resources.cpu, shares };
    }
  }
  if (options.pidsLimit !== undefined) {
    const pids = parseInteger(options.pidsLimit, '--pids-limit');
    if (pids > 0) {
      limits.PidsLimit = pids;
      resources.pids = { limit: pids };
    }
  }
  return { resources, limits };
}
