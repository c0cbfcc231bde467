// The v2 io controller, serving the spec's blockIO: weights (io.bfq.weight when BFQ is there, else
// io.weight on its own 1-10000 scale) and io.max throttles. Follows runc libcontainer/cgroups/fs2/io.go.
import type { LinuxResources, ThrottleDevice } from '../../spec/types.js';
import type { Controller } from '../controller.js';
import { type CgroupDir, unsupported } from '../dir.js';
import type { BlkioEntry, CgroupStats } from '../stats.js';

const F = 'linux.resources.blockIO';

/** blkio weight [10, 1000] → io.weight [1, 10000], runc's ConvertBlkIOToIOWeightValue. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

const THROTTLES = [
  ['throttleReadBpsDevice', 'rbps'],
  ['throttleWriteBpsDevice', 'wbps'],
  ['throttleReadIOPSDevice', 'riops'],
  ['throttleWriteIOPSDevice', 'wiops'],
] as const;

export const io: Controller = {
  name: 'io',
  field: F,
  wanted: (r: LinuxResources) => r.blockIO !== undefined && Object.values(r.blockIO).some((v) => v !== undefined && (!Array.isArray(v) || v.length > 0)),

  set(dir: CgroupDir, r: LinuxResources): void {
    const b = r.blockIO;
    if (!b) return;
    if (b.leafWeight || b.weightDevice?.some((d) => d.leafWeight)) throw unsupported(`${F}.leafWeight`, 'cgroup v2 has no leaf weights');
    // BFQ takes blkio's own scale, so its weights are written unconverted.
    const bfq = dir.exists('io.bfq.weight');
    if (b.weight) {
      if (bfq) dir.write('io.bfq.weight', b.weight, `${F}.weight`);
      else dir.write('io.weight', blkioWeightToIoWeight(b.weight), `${F}.weight`);
    }
    for (const [i, d] of (b.weightDevice ?? []).entries()) {
      if (!d.weight) continue;
      const weight = bfq ? d.weight : blkioWeightToIoWeight(d.weight);
      dir.write(bfq ? 'io.bfq.weight' : 'io.weight', `${d.major}:${d.minor} ${weight}`, `${F}.weightDevice[${i}].weight`);
    }
    // One "MAJ:MIN key=value" line per write: the kernel merges them into the device's io.max entry.
    for (const [key, name] of THROTTLES) {
      for (const [i, t] of ((b[key] ?? []) as ThrottleDevice[]).entries()) dir.write('io.max', `${t.major}:${t.minor} ${name}=${t.rate}`, `${F}.${key}[${i}]`);
    }
  },

  stats(dir: CgroupDir, stats: CgroupStats): void {
    const bytes: BlkioEntry[] = [];
    const serviced: BlkioEntry[] = [];
    // "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0", reported as v1's Read/Write entries.
    for (const line of (dir.readOptional('io.stat') ?? '').split('\n')) {
      const [device, ...pairs] = line.trim().split(/\s+/);
      const match = /^(\d+):(\d+)$/.exec(device ?? '');
      if (!match) continue;
      const [major, minor] = [Number(match[1]), Number(match[2])];
      const kv = Object.fromEntries(pairs.map((p) => p.split('=')).map(([k, v]) => [k, Number(v)]));
      bytes.push({ major, minor, op: 'Read', value: kv.rbytes ?? 0 }, { major, minor, op: 'Write', value: kv.wbytes ?? 0 });
      serviced.push({ major, minor, op: 'Read', value: kv.rios ?? 0 }, { major, minor, op: 'Write', value: kv.wios ?? 0 });
    }
    stats.blkio = { ioServiceBytesRecursive: bytes, ioServicedRecursive: serviced };
  },
};
