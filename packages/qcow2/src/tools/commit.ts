// `img commit`: writes what an overlay holds (its data and zero clusters) into its backing file, then
// empties the overlay (unless keep), as qemu-img commit does. The backing file is opened read-write
// for the duration; the overlay reads the same afterwards, now through its backing file.
import { imageError } from '../errors.js';
import { openImage } from '../image/open.js';
import { Qcow2Image } from '../image/qcow2-image.js';

export interface CommitOptions {
  /** Keep the overlay's data instead of emptying it (qemu-img commit -d). */
  keep?: boolean;
  /** The share of the overlay written so far, 0 to 1 (qemu-img commit -p). */
  onProgress?: (done: number) => void;
}

const CHUNK = 4 * 1024 * 1024;

export async function commit(path: string, options: CommitOptions = {}): Promise<void> {
  const top = await openImage(path);
  try {
    if (!(top instanceof Qcow2Image) || top.backing === undefined) {
      throw imageError('EIMG_BAD_OPTION', path, 'has no backing file to commit to');
    }
    const base = await openImage(top.backing.path, { format: top.backing.format });
    try {
      if (base.size < top.size) await base.resize(top.size);
      const buf = Buffer.alloc(CHUNK);
      options.onProgress?.(0);
      for (let at = 0; at < top.size; at += CHUNK) {
        options.onProgress?.(at / top.size);
        for (const e of await top.status(at, Math.min(CHUNK, top.size - at))) {
          if (e.kind === 'unallocated') continue;
          if (e.kind === 'zero') {
            await base.writeZeroes(e.start, Math.min(e.length, base.size - e.start));
            continue;
          }
          for (let p = e.start; p < e.start + e.length; p += CHUNK) {
            const piece = buf.subarray(0, Math.min(CHUNK, e.start + e.length - p));
            await top.read(piece, p);
            await base.write(piece, p);
          }
        }
      }
      await base.flush();
    } finally {
      await base.close();
    }
    if (!options.keep) await top.deallocate(0, top.size);
    options.onProgress?.(1);
  } finally {
    await top.close();
  }
}
