// `img create`: a new raw or qcow2 image, and the "Formatting ..." line qemu-img prints for it.
import { imageError } from '../errors.js';
import { ImageFile } from '../image/file.js';
import type { ImageFormat } from '../image/image.js';
import { type CreateOptions, createImage } from '../image/open.js';

export interface CreateRequest extends CreateOptions {
  format: ImageFormat;
}

/** The options only qcow2 images have, by qemu-img's names. */
const QCOW2_ONLY: Record<string, string> = {
  clusterSize: 'cluster_size',
  version: 'compat',
  refcountBits: 'refcount_bits',
  lazyRefcounts: 'lazy_refcounts',
  extendedL2: 'extended_l2',
  backingFile: 'backing_file',
  backingFormat: 'backing_fmt',
};

/** Creates the image and returns the size it got (from the backing file when none was given). */
export async function create(path: string, request: CreateRequest): Promise<number> {
  if (request.format === 'raw') {
    // qemu-img refuses these for raw too ("Invalid parameter"), rather than make an image without them.
    const qcow2Only = Object.entries(QCOW2_ONLY).filter(([key]) => request[key as keyof CreateRequest] !== undefined).map(([, name]) => name);
    if (qcow2Only.length > 0) throw imageError('EIMG_BAD_OPTION', path, `raw images take no ${qcow2Only.join(', ')} (qcow2 options)`);
    const file = await ImageFile.create(path);
    try {
      await file.truncate(request.size ?? 0);
    } finally {
      await file.close();
    }
    return request.size ?? 0;
  }
  const image = await createImage(path, request);
  const size = image.size;
  await image.close();
  return size;
}

/** qemu-img create's "Formatting 'x', fmt=qcow2 ..." line. */
export function formatCreate(path: string, request: CreateRequest, size: number): string {
  if (request.format === 'raw') return `Formatting '${path}', fmt=raw size=${size}\n`;
  const parts = [`Formatting '${path}', fmt=qcow2`, `cluster_size=${request.clusterSize ?? 65536}`, `extended_l2=${request.extendedL2 ? 'on' : 'off'}`, 'compression_type=zlib', `size=${size}`];
  if (request.version === 2) parts.push('compat=0.10');
  if (request.backingFile !== undefined) parts.push(`backing_file=${request.backingFile}`);
  if (request.backingFormat !== undefined) parts.push(`backing_fmt=${request.backingFormat}`);
  parts.push(`lazy_refcounts=${request.lazyRefcounts ? 'on' : 'off'}`, `refcount_bits=${request.refcountBits ?? 16}`);
  return `${parts.join(' ')}\n`;
}
