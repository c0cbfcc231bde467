// Resource usage in the shape `runc events --stats` prints as its event's `data` (runc
// types/events.go), so tools that parse runc's output (containerd's runc shim, podman stats) can read
// ours. Field names are runc's JSON names; units are runc's (nanoseconds for CPU time, bytes for memory).
// A value the host does not report stays 0 or absent.

export interface CpuUsage {
  /** Total CPU time, ns. */
  total: number;
  percpu?: number[];
  percpu_kernel?: number[];
  percpu_user?: number[];
  kernel: number;
  user: number;
}

export interface Throttling {
  periods: number;
  throttledPeriods: number;
  /** ns */
  throttledTime: number;
}

export interface MemoryEntry {
  limit: number;
  usage: number;
  max: number;
  failcnt: number;
}

export interface MemoryStats {
  cache: number;
  usage: MemoryEntry;
  swap: MemoryEntry;
  kernel: MemoryEntry;
  kernelTCP: MemoryEntry;
  /** memory.stat as the kernel prints it. */
  raw: Record<string, number>;
}

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface BlkioStats {
  ioServiceBytesRecursive: BlkioEntry[];
  ioServicedRecursive: BlkioEntry[];
}

export interface HugetlbStats {
  usage: number;
  max: number;
  failcnt: number;
}

export interface CgroupStats {
  cpu: { usage: CpuUsage; throttling: Throttling };
  memory: MemoryStats;
  pids: { current: number; limit: number };
  blkio: BlkioStats;
  /** Keyed by page size as the kernel names it: `2MB`, `1GB`. */
  hugetlb: Record<string, HugetlbStats>;
}

const entry = (): MemoryEntry => ({ limit: 0, usage: 0, max: 0, failcnt: 0 });

export function emptyStats(): CgroupStats {
  return {
    cpu: { usage: { total: 0, kernel: 0, user: 0 }, throttling: { periods: 0, throttledPeriods: 0, throttledTime: 0 } },
    memory: { cache: 0, usage: entry(), swap: entry(), kernel: entry(), kernelTCP: entry(), raw: {} },
    pids: { current: 0, limit: 0 },
    blkio: { ioServiceBytesRecursive: [], ioServicedRecursive: [] },
    hugetlb: {},
  };
}
