// The v1 blkio controller: proportional weight (CFQ's blkio.weight, or BFQ's blkio.bfq.weight on kernels
// where CFQ is gone, as here) and per-device throttles. Follows runc libcontainer/cgroups/fs/blkio.go.
import type { LinuxResources, ThrottleDevice } from '../../spec/types.js';
import type { Controller } from '../controller.js';
import { type CgroupDir, unsupported } from '../dir.js';
import type { BlkioEntry, CgroupStats } from '../stats.js';

const F = 'linux.resources.blockIO';

const THROTTLES = [
  ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
  ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
  ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
  ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
] as const;

/** The weight files of whichever proportional scheduler this kernel has: '' for CFQ, 'bfq.' for BFQ. */
function weightPrefix(dir: CgroupDir): string | undefined {
  if (dir.exists('blkio.weight')) return '';
  if (dir.exists('blkio.bfq.weight')) return 'bfq.';
  return undefined;
}

export const blkio: Controller = {
  name: 'blkio',
  field: F,
  wanted: (r: LinuxResources) => r.blockIO !== undefined && Object.values(r.blockIO).some((v) => v !== undefined && (!Array.isArray(v) || v.length > 0)),

  set(dir: CgroupDir, r: LinuxResources): void {
    const b = r.blockIO;
    if (!b) return;
    const wantsWeight = (b.weight ?? 0) !== 0 || (b.leafWeight ?? 0) !== 0 || (b.weightDevice?.length ?? 0) > 0;
    const prefix = wantsWeight ? weightPrefix(dir) : '';
    if (prefix === undefined) throw unsupported(`${F}.weight`, 'no proportional I/O scheduler (CFQ or BFQ) is available (blkio.weight missing)');
    if (b.weight) dir.write(`blkio.${prefix}weight`, b.weight, `${F}.weight`);
    if (b.leafWeight) {
      // Only CFQ ever had leaf weights.
      if (prefix !== '' || !dir.exists('blkio.leaf_weight')) throw unsupported(`${F}.leafWeight`, 'leaf weights need the CFQ scheduler (blkio.leaf_weight missing)');
      dir.write('blkio.leaf_weight', b.leafWeight, `${F}.leafWeight`);
    }
    for (const [i, d] of (b.weightDevice ?? []).entries()) {
      if (d.weight) dir.write(`blkio.${prefix}weight_device`, `${d.major}:${d.minor} ${d.weight}`, `${F}.weightDevice[${i}].weight`);
      if (d.leafWeight) {
        if (prefix !== '') throw unsupported(`${F}.weightDevice[${i}].leafWeight`, 'leaf weights need the CFQ scheduler');
        dir.write('blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`, `${F}.weightDevice[${i}].leafWeight`);
      }
    }
    for (const [key, file] of THROTTLES) {
      // One device per write: the kernel parses a single "major:minor value" line.
      for (const [i, t] of ((b[key] ?? []) as ThrottleDevice[]).entries()) dir.write(file, `${t.major}:${t.minor} ${t.rate}`, `${F}.${key}[${i}]`);
    }
  },

  stats(dir: CgroupDir, stats: CgroupStats): void {
    // CFQ's own counters when present, else BFQ's, else the throttle layer's (which sees every bio).
    for (const prefix of ['blkio.', 'blkio.bfq.', 'blkio.throttle.']) {
      const bytes = dir.readOptional(`${prefix}io_service_bytes_recursive`);
      if (bytes === undefined) continue;
      stats.blkio.ioServiceBytesRecursive = parseBlkioEntries(bytes);
      stats.blkio.ioServicedRecursive = parseBlkioEntries(dir.readOptional(`${prefix}io_serviced_recursive`) ?? '');
      return;
    }
  },
};

/** `8:0 Read 4096` lines; the trailing `Total N` line is a sum, not a device. */
export function parseBlkioEntries(text: string): BlkioEntry[] {
  const entries: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const [device, op, value] = line.trim().split(/\s+/);
    const match = /^(\d+):(\d+)$/.exec(device ?? '');
    if (!match || op === undefined || value === undefined) continue;
    entries.push({ major: Number(match[1]), minor: Number(match[2]), op, value: Number(value) });
  }
  return entries;
}
