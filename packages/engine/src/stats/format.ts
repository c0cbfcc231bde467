// `isola stats` as docker prints it: CPU % from two samples, memory without the reclaimable page cache,
// sizes in docker's units (binary for memory, decimal for I/O), the table and `--format json`.
import type { Sample } from './sample.js';

/** docker's stats row, every value a string as its `--format json` prints them. */
export interface StatsRow {
  BlockIO: string;
  CPUPerc: string;
  Container: string;
  ID: string;
  MemPerc: string;
  MemUsage: string;
  Name: string;
  NetIO: string;
  PIDs: string;
}

/** Go's %.Ng: N significant digits, no trailing zeros. */
function significant(value: number, digits: number): string {
  return String(Number(value.toPrecision(digits)));
}

function scaled(size: number, base: number, units: readonly string[], digits: number): string {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return `${significant(size, digits)}${units[i]}`;
}

/** go-units BytesSize: `1.5MiB`, `31.27GiB`. */
export function bytesSize(size: number): string {
  return scaled(size, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'], 4);
}

/** go-units HumanSizeWithPrecision(size, 3): `4.1kB`, `12.3MB`. */
export function humanSize(size: number): string {
  return scaled(size, 1000, ['B', 'kB', 'MB', 'GB', 'TB', 'PB'], 3);
}

/** Memory in use as docker counts it: usage less the inactive file cache (v1 total_inactive_file, v2 inactive_file). */
export function memoryUsage(sample: Sample): number {
  const { usage, raw } = sample.cgroup.memory;
  const inactive = raw.total_inactive_file ?? raw.inactive_file ?? 0;
  return inactive < usage.usage ? usage.usage - inactive : usage.usage;
}

/** The limit, or the host's memory when there is none (an unlimited v1 cgroup reports 2^63 rounded to a page). */
export function memoryLimit(sample: Sample): number {
  const limit = sample.cgroup.memory.usage.limit;
  return limit > 0 && limit < sample.hostMemory ? limit : sample.hostMemory;
}

/** docker's calculateCPUPercentUnix: the container's share of the host's CPU time between two samples, times the CPUs. */
export function cpuPercent(before: Sample, after: Sample): number {
  const cpu = after.cgroup.cpu.usage.total - before.cgroup.cpu.usage.total;
  const system = after.systemCpuNs - before.systemCpuNs;
  return cpu > 0 && system > 0 ? (cpu / system) * after.onlineCpus * 100 : 0;
}

function blockIO(sample: Sample): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const entry of sample.cgroup.blkio.ioServiceBytesRecursive) {
    const op = entry.op.toLowerCase();
    if (op === 'read') read += entry.value;
    else if (op === 'write') write += entry.value;
  }
  return { read, write };
}

export function statsRow(container: { id: string; name: string }, before: Sample | undefined, after: Sample | undefined): StatsRow {
  // Keys in docker's (alphabetical) order, so that `--format json` lines read the same.
  const row = (cpu: string, memPerc: string, memUsage: string, net: string, blockIO: string, pids: string): StatsRow => ({
    BlockIO: blockIO, CPUPerc: cpu, Container: container.name, ID: container.id.slice(0, 12), MemPerc: memPerc, MemUsage: memUsage,
    Name: container.name, NetIO: net, PIDs: pids,
  });
  if (!after) return row('0.00%', '0.00%', '0B / 0B', '0B / 0B', '0B / 0B', '0');
  const used = memoryUsage(after);
  const limit = memoryLimit(after);
  const io = blockIO(after);
  return row(
    `${(before ? cpuPercent(before, after) : 0).toFixed(2)}%`,
    `${(limit ? (used / limit) * 100 : 0).toFixed(2)}%`,
    `${bytesSize(used)} / ${bytesSize(limit)}`,
    after.net ? `${humanSize(after.net.rx)} / ${humanSize(after.net.tx)}` : '--',
    `${humanSize(io.read)} / ${humanSize(io.write)}`,
    String(after.cgroup.pids.current),
  );
}

/** docker's table: columns at least 10 wide, 3 spaces apart. */
export function statsTable(rows: readonly StatsRow[]): string {
  const header = ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'];
  const cells = [header, ...rows.map((r) => [r.ID, r.Name, r.CPUPerc, r.MemUsage, r.MemPerc, r.NetIO, r.BlockIO, r.PIDs])];
  const widths = header.map((_, i) => Math.max(10, ...cells.map((c) => c[i]!.length + 3)));
  return cells.map((c) => c.map((cell, i) => (i === c.length - 1 ? cell : cell.padEnd(widths[i]!))).join('').trimEnd()).join('\n');
}
