// `img rebase`: points an overlay at another backing file. Safe mode (the default) first copies into
// the overlay every cluster it does not hold whose content differs between the old and the new
// backing chain, so the overlay reads the same afterwards; unsafe mode only rewrites the name.
import { imageError } from '../errors.js';
import { setBackingFile } from '../image/backing-file.js';
import type { Image, ImageFormat } from '../image/image.js';
import { openImage } from '../image/open.js';
import { chainFileAt } from '../image/same-file.js';
import { isAbsolute, dirname, resolve } from 'node:path';

export interface RebaseOptions {
  /** New backing file name as stored (relative to the overlay's directory); undefined or '' removes it. */
  backingFile?: string;
  backingFormat?: ImageFormat;
  unsafe?: boolean;
  /** The share of the overlay compared so far, 0 to 1 (qemu-img rebase -p). */
  onProgress?: (done: number) => void;
}

export async function rebase(path: string, options: RebaseOptions): Promise<void> {
  const name = options.backingFile === '' ? undefined : options.backingFile;
  let format = options.backingFormat;
  options.onProgress?.(0);
  if (!options.unsafe) {
    const top = await openImage(path);
    try {
      if (top.format !== 'qcow2') throw imageError('EIMG_BAD_OPTION', path, 'only qcow2 images have a backing file');
      const next = name === undefined ? undefined : await openImage(isAbsolute(name) ? name : resolve(dirname(path), name), { readOnly: true, format });
      try {
        // qemu-img refuses this too (its write lock on the overlay): the overlay would be its own backing file.
        const loop = await chainFileAt(next, path);
        if (loop !== undefined) throw imageError('EQCOW2_BACKING_LOOP', path, `new backing file "${name}" would make a loop: its chain reaches ${loop}, this image`);
        format ??= next?.format;
        await copyDifferences(top, next, options.onProgress);
      } finally {
        await next?.close();
      }
    } finally {
      await top.close();
    }
  }
  await setBackingFile(path, name, name === undefined ? undefined : format);
  options.onProgress?.(1);
}

const CHUNK = 2 * 1024 * 1024;

/** Writes into top every run it does not hold where its old backing chain and `next` differ. */
async function copyDifferences(top: Image, next: Image | undefined, onProgress?: (done: number) => void): Promise<void> {
  const old = top.backing;
  const a = Buffer.alloc(CHUNK);
  const b = Buffer.alloc(CHUNK);
  const read = async (image: Image | undefined, buf: Buffer, at: number): Promise<void> => {
    const n = image === undefined ? 0 : Math.max(0, Math.min(buf.length, image.size - at));
    if (n > 0) await image!.read(buf.subarray(0, n), at);
    buf.fill(0, n);
  };
  const info = top.info();
  const cs = info.format === 'qcow2' ? info.clusterSize : 65536;
  for (let at = 0; at < top.size; at += CHUNK) {
    onProgress?.(at / top.size);
    for (const e of await top.status(at, Math.min(CHUNK, top.size - at))) {
      if (e.kind !== 'unallocated') continue;
      const oldPart = a.subarray(0, e.length);
      const newPart = b.subarray(0, e.length);
      await read(old, oldPart, e.start);
      await read(next, newPart, e.start);
      // Cluster by cluster, so one changed byte costs one cluster in the overlay, not the whole run.
      for (let p = 0; p < e.length; p += cs) {
        const end = Math.min(e.length, p + cs);
        if (!oldPart.subarray(p, end).equals(newPart.subarray(p, end))) await top.write(oldPart.subarray(p, end), e.start + p);
      }
    }
  }
}
