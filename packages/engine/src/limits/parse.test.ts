import { describe, expect, it } from 'vitest';
import { parseBytes, parseLimits } from './parse.js';

const host = { cpus: 2, swapAccounting: true };

describe('parseBytes', () => {
  it('reads docker sizes in binary units', () => {
    expect(parseBytes('1024')).toBe(1024);
    expect(parseBytes('64m')).toBe(64 * 1024 * 1024);
    expect(parseBytes('1.5g')).toBe(1.5 * 1024 ** 3);
    expect(parseBytes('512KB')).toBe(512 * 1024);
    expect(parseBytes('2GiB')).toBe(2 * 1024 ** 3);
  });
  it('refuses what is not a size, naming the flag', () => {
    expect(() => parseBytes('12x', '--memory')).toThrow(/^invalid --memory "12x": use a number/);
    for (const bad of ['', 'm', '-5m', '1e9', '64 mb extra', '0x10']) expect(() => parseBytes(bad)).toThrow(/invalid size/);
  });
});

describe('parseLimits', () => {
  it('maps --memory, --cpus, --cpu-shares and --pids-limit to linux.resources', () => {
    const { resources, limits } = parseLimits({ memory: '32m', cpus: '0.5', cpuShares: '512', pidsLimit: '20' }, host);
    expect(resources).toEqual({
      memory: { limit: 32 << 20, swap: 64 << 20 },
      cpu: { quota: 50_000, period: 100_000, shares: 512 },
      pids: { limit: 20 },
    });
    expect(limits).toEqual({ Memory: 32 << 20, MemorySwap: 64 << 20, NanoCpus: 500_000_000, CpuShares: 512, PidsLimit: 20 });
  });
  it('gives no swap limit where swap is not accounted, and honours --memory-swap', () => {
    expect(parseLimits({ memory: '32m' }, { ...host, swapAccounting: false }).resources.memory).toEqual({ limit: 32 << 20 });
    expect(parseLimits({ memory: '32m', memorySwap: '-1' }, host).resources.memory).toEqual({ limit: 32 << 20, swap: -1 });
    expect(parseLimits({ memory: '32m', memorySwap: '48m' }, host).resources.memory).toEqual({ limit: 32 << 20, swap: 48 << 20 });
  });
  it('treats --pids-limit 0 and -1 as no limit, and sets nothing without flags', () => {
    expect(parseLimits({ pidsLimit: '-1' }, host).resources).toEqual({});
    expect(parseLimits({ pidsLimit: '0' }, host).resources).toEqual({});
    expect(parseLimits({}, host)).toEqual({ resources: {}, limits: { Memory: 0, MemorySwap: 0, NanoCpus: 0, CpuShares: 0, PidsLimit: null } });
  });
  it('refuses bad values with one line naming the flag and the reason', () => {
    const cases: Array<[object, RegExp]> = [
      [{ memory: '12x' }, /^invalid --memory "12x": use a number/],
      [{ memory: '1m' }, /^invalid --memory "1m": the minimum memory limit is 6MB$/],
      [{ memorySwap: '64m' }, /--memory-swap "64m": it needs --memory too/],
      [{ memory: '64m', memorySwap: '32m' }, /must be at least --memory/],
      [{ cpus: '-1' }, /^invalid --cpus "-1": the range is 0.01 to 2.00 \(this host has 2 CPUs\)$/],
      [{ cpus: '0' }, /--cpus "0": the range/],
      [{ cpus: '3' }, /--cpus "3": the range/],
      [{ cpus: 'half' }, /--cpus "half"/],
      [{ cpuShares: '1' }, /--cpu-shares "1": the range is 2 to 262144/],
      [{ cpuShares: '1.5' }, /--cpu-shares "1.5": not an integer/],
      [{ pidsLimit: 'many' }, /--pids-limit "many": not an integer/],
    ];
    for (const [options, message] of cases) expect(() => parseLimits(options, host)).toThrow(message);
  });
});
