// Entry points: openImage detects the format (qcow2 by its magic, raw otherwise) and opens the backing
// chain; createImage writes a new, empty qcow2 image and opens it read-write.
import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { IsolaError } from '@isola/errors';
import { imageError } from '../errors.js';
import { readU32 } from '../format/endian.js';
import { QCOW2_MAGIC } from '../format/header.js';
import { planNewImage } from '../format/layout.js';
import { ImageFile } from './file.js';
import type { Image, ImageFormat } from './image.js';
import { Qcow2Image } from './qcow2-image.js';
import { RawImage } from './raw-image.js';
import { chainFileAt } from './same-file.js';

export interface OpenOptions {
  /** Default false. Backing files are always opened read-only. */
  readOnly?: boolean;
  /** Skip detection. Detection trusts the magic, so pass 'raw' for a raw disk that may start with "QFI\xfb". */
  format?: ImageFormat;
  /** O_DIRECT for the image and its backing chain (qemu's cache=none). */
  direct?: boolean;
}

export interface CreateOptions {
  /** Virtual size in bytes; defaults to the backing file's size. */
  size?: number;
  /** Power of two from 512 to 2 MiB; default 64 KiB. */
  clusterSize?: number;
  /** 3 (qemu compat=1.1, default) or 2 (compat=0.10). */
  version?: 2 | 3;
  /** 1 to 64, a power of two; default 16 (the only width version 2 allows). */
  refcountBits?: number;
  /** Stored as given; a relative name is resolved against the new image's directory, as qemu does. */
  backingFile?: string;
  /** 'qcow2' or 'raw'; detected from the backing file when omitted. */
  backingFormat?: ImageFormat;
  /** Refcount updates wait for flush/close; a crash leaves the image dirty, to be repaired on open. */
  lazyRefcounts?: boolean;
  /** Extended L2 entries (qemu's extended_l2=on): 32 subclusters per cluster, each allocated on its own. */
  extendedL2?: boolean;
}

/** Longest backing chain followed; deeper chains are almost certainly a mistake or an attack. */
export const MAX_BACKING_DEPTH = 64;

export function openImage(path: string, options: OpenOptions = {}): Promise<Image> {
  return openInChain(path, options.readOnly ?? false, options.format, [], options.direct ?? false);
}

async function openInChain(path: string, readOnly: boolean, format: ImageFormat | undefined, chain: string[], direct: boolean): Promise<Image> {
  const file = await ImageFile.open(path, readOnly, { direct });
  const detected = format ?? (await detectFormat(file));
  if (detected === 'raw') {
    await file.close();
    return RawImage.open(path, readOnly, direct);
  }
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    real = resolve(path);
  }
  const here = [...chain, real];
  return Qcow2Image.open(
    file,
    readOnly,
    (name, backingFormat) => openBacking(path, name, backingFormat, here, direct),
    (name) => openDataFile(path, name, direct),
  );
}

/** "nbd:", "json:{...}", "https://": a qemu protocol, which a plain file reader cannot follow. */
function usesProtocol(name: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(name);
}

/**
 * The external data file, opened read-only. qemu (7.2) opens a relative name against its working
 * directory, unlike a backing file name; we do the same, and fall back to the image's directory, where
 * the data file is when image and data file were moved together.
 */
async function openDataFile(imagePath: string, name: string, direct: boolean): Promise<ImageFile> {
  if (usesProtocol(name)) {
    throw imageError('EQCOW2_DATA_FILE', imagePath, `data file "${name}" uses a protocol; only local files are supported`, { dataFile: name });
  }
  const candidates = isAbsolute(name) ? [name] : [resolve(name), join(dirname(imagePath), name)];
  let failure: unknown;
  for (const path of candidates) {
    try {
      return await ImageFile.open(path, true, { direct });
    } catch (cause) {
      failure ??= cause;
    }
  }
  throw imageError('EQCOW2_DATA_FILE', imagePath, `cannot open data file "${name}" (tried ${candidates.join(', ')})`, { dataFile: name }, failure);
}

async function detectFormat(file: ImageFile): Promise<ImageFormat> {
  const magic = new Uint8Array(4);
  const n = await file.read(magic, 0);
  return n === 4 && readU32(magic, 0) === QCOW2_MAGIC ? 'qcow2' : 'raw';
}

async function openBacking(imagePath: string, name: string, format: string | undefined, chain: string[], direct: boolean): Promise<Image> {
  if (usesProtocol(name)) {
    throw imageError('EQCOW2_BACKING_UNSUPPORTED', imagePath, `backing file "${name}" uses a protocol; only local files are supported`, {
      backingFile: name,
    });
  }
  if (format !== undefined && format !== 'qcow2' && format !== 'raw') {
    throw imageError('EQCOW2_BACKING_UNSUPPORTED', imagePath, `backing file "${name}" has format "${format}"; only qcow2 and raw are supported`, {
      backingFile: name,
      backingFormat: format,
    });
  }
  // Named as qemu names it (its path_combine): relative to the directory the image was named with.
  const path = isAbsolute(name) ? name : join(dirname(imagePath), name);
  let real: string;
  try {
    real = await realpath(path);
  } catch (cause) {
    throw imageError('EQCOW2_BACKING_OPEN', imagePath, `cannot open backing file "${name}" (${path})`, { backingFile: name }, cause);
  }
  if (chain.includes(real)) {
    throw imageError('EQCOW2_BACKING_LOOP', imagePath, `backing chain loops back to ${real}`, { chain: [...chain, real] });
  }
  if (chain.length >= MAX_BACKING_DEPTH) {
    throw imageError('EQCOW2_BACKING_TOO_DEEP', imagePath, `backing chain is deeper than ${MAX_BACKING_DEPTH} images`, { chain });
  }
  try {
    return await openInChain(path, true, format as ImageFormat | undefined, chain, direct);
  } catch (cause) {
    // Loop and depth errors already name the whole chain; anything else gets this layer's context.
    if (cause instanceof IsolaError && (cause.code === 'EQCOW2_BACKING_LOOP' || cause.code === 'EQCOW2_BACKING_TOO_DEEP')) throw cause;
    throw imageError('EQCOW2_BACKING_OPEN', imagePath, `cannot open backing file "${name}"`, { backingFile: name }, cause);
  }
}

export async function createImage(path: string, options: CreateOptions): Promise<Image> {
  const clusterSize = options.clusterSize ?? 65536;
  const refcountBits = options.refcountBits ?? 16;
  let size = options.size;
  let backingFormat = options.backingFormat;
  // Opened even when the size and format are given, as qemu-img does: a missing backing file, or one
  // whose chain leads back to this path, is refused before the file is created (or overwritten).
  if (options.backingFile !== undefined) {
    const backingPath = isAbsolute(options.backingFile) ? options.backingFile : resolve(dirname(path), options.backingFile);
    const backing = await openImage(backingPath, { readOnly: true, format: backingFormat }).catch((cause: unknown) => {
      throw imageError('EQCOW2_BACKING_OPEN', path, `cannot open backing file "${options.backingFile}"`, {}, cause);
    });
    try {
      const loop = await chainFileAt(backing, path);
      if (loop !== undefined) throw imageError('EQCOW2_BACKING_LOOP', path, `backing file "${options.backingFile}" would make a loop: its chain reaches ${loop}, this image`);
      size ??= backing.size;
      backingFormat ??= backing.format;
    } finally {
      await backing.close();
    }
  }
  if (size === undefined) throw imageError('EIMG_BAD_OPTION', path, 'a size is needed when there is no backing file');
  const plan = planNewImage(
    {
      size,
      clusterBits: Math.log2(clusterSize),
      version: options.version ?? 3,
      refcountOrder: Math.log2(refcountBits),
      backingFile: options.backingFile,
      backingFormat,
      lazyRefcounts: options.lazyRefcounts,
      extendedL2: options.extendedL2,
    },
    path,
  );
  const file = await ImageFile.create(path);
  try {
    for (const region of plan.regions) await file.write(region.bytes, region.offset);
    await file.truncate(plan.fileSize);
    await file.sync();
  } finally {
    await file.close();
  }
  return openImage(path, { readOnly: false, format: 'qcow2' });
}
