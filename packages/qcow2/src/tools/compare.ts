// `img compare`: are two disks the same, byte for byte? As qemu-img compare: a larger disk's extra
// part must read as zeros (unless strict, when sizes must match), and the first differing offset is
// reported at sector granularity. Runs unallocated in both chains down to the same zeros are skipped.
import type { Image, ImageFormat } from '../image/image.js';
import { openImage } from '../image/open.js';

export interface CompareOptions {
  formatA?: ImageFormat;
  formatB?: ImageFormat;
  /** Different sizes make the images different (qemu-img compare -s). */
  strict?: boolean;
}

export type CompareResult = { sizesDiffer: boolean } & (
  | { identical: true }
  | { identical: false; offset: number; reason: 'content' | 'size' }
);

const CHUNK = 4 * 1024 * 1024;

export async function compareImages(pathA: string, pathB: string, options: CompareOptions = {}): Promise<CompareResult> {
  const a = await openImage(pathA, { readOnly: true, format: options.formatA });
  try {
    const b = await openImage(pathB, { readOnly: true, format: options.formatB });
    try {
      return await compare(a, b, options.strict ?? false);
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}

async function compare(a: Image, b: Image, strict: boolean): Promise<CompareResult> {
  const sizesDiffer = a.size !== b.size;
  if (strict && sizesDiffer) return { sizesDiffer, identical: false, offset: Math.min(a.size, b.size), reason: 'size' };
  const common = Math.min(a.size, b.size);
  const bufA = Buffer.alloc(CHUNK);
  const bufB = Buffer.alloc(CHUNK);
  for (let at = 0; at < common; at += CHUNK) {
    const n = Math.min(CHUNK, common - at);
    await Promise.all([a.read(bufA.subarray(0, n), at), b.read(bufB.subarray(0, n), at)]);
    if (bufA.compare(bufB, 0, n, 0, n) !== 0) {
      let i = 0;
      while (bufA[i] === bufB[i]) i++;
      return { sizesDiffer, identical: false, offset: sectorStart(at + i), reason: 'content' };
    }
  }
  const longer = a.size > b.size ? a : b;
  for (let at = common; at < longer.size; at += CHUNK) {
    const n = Math.min(CHUNK, longer.size - at);
    await longer.read(bufA.subarray(0, n), at);
    const i = bufA.subarray(0, n).findIndex((x) => x !== 0);
    if (i >= 0) return { sizesDiffer, identical: false, offset: sectorStart(at + i), reason: 'content' };
  }
  return { sizesDiffer, identical: true };
}

function sectorStart(offset: number): number {
  return offset - (offset % 512);
}

/** qemu-img compare's message for a result. */
export function formatCompare(r: CompareResult): string {
  if (!r.identical && r.reason === 'size') return 'Strict mode: Image size mismatch!\n';
  const warning = r.sizesDiffer ? 'Warning: Image size mismatch!\n' : '';
  return warning + (r.identical ? 'Images are identical.\n' : `Content mismatch at offset ${r.offset}!\n`);
}
