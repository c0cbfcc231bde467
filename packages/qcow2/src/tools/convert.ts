// `img convert`: copies a disk into a new raw or qcow2 image. Clusters that read as zeros are skipped
// (left unallocated or as holes); with `compress`, each qcow2 cluster is stored as raw deflate with a
// 4 KiB window (what qemu's decompressor accepts) unless that does not save space. Runs the source
// already knows to be zero (unallocated, zero clusters, holes of a sparse raw file) are not even read.
// Reading the next chunks and compressing (zlib) run on the libuv pool while this thread writes.
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { constants, deflateRaw } from 'node:zlib';
import { imageError } from '../errors.js';
import { maxCompressedSize } from '../format/l2-entry.js';
import { allocPageAligned } from '../image/aligned.js';
import { ImageFile } from '../image/file.js';
import type { Image, ImageFormat } from '../image/image.js';
import { openImage } from '../image/open.js';
import { Qcow2Builder } from '../image/qcow2-builder.js';
import { mapImage } from './map.js';
import { chainFileAt } from '../image/same-file.js';

const deflate = promisify(deflateRaw);

export interface ConvertOptions {
  sourceFormat?: ImageFormat;
  outputFormat: ImageFormat;
  compress?: boolean;
  clusterSize?: number;
  version?: 2 | 3;
  refcountBits?: number;
  lazyRefcounts?: boolean;
  extendedL2?: boolean;
  /**
   * fdatasync the new image before returning. Off by default, as qemu-img convert's default cache
   * mode ('unsafe') ignores flushes; qemu-img convert -t writeback is the same as sync: true.
   */
  sync?: boolean;
  /**
   * Write a new qcow2 image with O_DIRECT (qemu-img convert -t none), bypassing the page cache; fails
   * naming open(O_DIRECT) where the file system has no O_DIRECT. Raw output is written through the page cache.
   */
  direct?: boolean;
  /** Stops the convert at the next chunk (Ctrl-C): it then fails with the signal's reason and removes the target. */
  signal?: AbortSignal;
  /**
   * Called with the share of the disk done so far (0 to 1: the offset reached, zero runs counting as
   * done when passed), after each chunk and once with 1 at the end: qemu-img convert -p's measure.
   */
  onProgress?: (done: number) => void;
}

/**
 * Bytes per read and write: qemu-img convert's 2 MiB. Fewer chunks cost fewer thread-pool trips (a
 * 1 GiB convert, five fresh processes each: 324-414 ms against 353-488 ms with 1 MiB); 4 MiB chunks made
 * one run in five take 1.6 s, nearly all of it system time in the kernel's copies.
 */
const CHUNK = 2 * 1024 * 1024;
const READ_AHEAD = 3;

export async function convert(source: string, target: string, options: ConvertOptions): Promise<void> {
  if (options.compress && options.outputFormat !== 'qcow2') {
    throw imageError('EIMG_BAD_OPTION', target, 'compression needs qcow2 output (-O qcow2)');
  }
  const src = await openImage(source, { readOnly: true, format: options.sourceFormat });
  // Checked before the try below, whose cleanup removes the target: here the target is someone's image.
  const overwritten = await chainFileAt(src, target).catch(async (error: unknown) => {
    await src.close();
    throw error;
  });
  if (overwritten !== undefined) {
    await src.close();
    throw imageError('EIMG_BAD_OPTION', target, overwritten === src.path ? 'is the source image itself: convert would destroy it' : `is the backing file ${JSON.stringify(overwritten)} of ${source}: convert would destroy it`);
  }
  try {
    options.onProgress?.(0);
    if (options.outputFormat === 'raw') await toRaw(src, target, options);
    else await toQcow2(src, target, options);
    // A stop that came while no chunk was read (mapping the source, the final flush) still ends it.
    options.signal?.throwIfAborted();
    options.onProgress?.(1);
  } catch (error) {
    // A half-written target is no image: nothing is left behind.
    await rm(target, { force: true }).catch(() => undefined);
    throw error;
  } finally {
    await src.close();
  }
}

/**
 * Ranges that may hold data: everything but what the source's map calls zero (unallocated clusters,
 * zero clusters, holes of a raw file), widened to whole `align` units (the output's clusters) and merged,
 * so a unit that two ranges share is read and written once, with both ranges' bytes.
 */
async function dataRanges(src: Image, align: number): Promise<{ start: number; length: number }[]> {
  const ranges: { start: number; length: number }[] = [];
  for (const e of await mapImage(src)) {
    if (e.zero && !e.data) continue;
    const start = e.start - (e.start % align);
    const end = Math.min(src.size, Math.ceil((e.start + e.length) / align) * align);
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last.start + last.length >= start) last.length = Math.max(last.length, end - last.start);
    else ranges.push({ start, length: end - start });
  }
  return ranges;
}

/**
 * Chunk buffers, reused: fresh 4 MiB buffers cost page faults and kernel page clearing on every chunk,
 * which measured as a large part of a convert's time. A buffer returns once its writes completed.
 */
class BufferPool {
  private readonly free: Buffer[] = [];
  /** The buffers handed out, by the view `take` returned, so that `give` gets back the whole buffer. */
  private readonly lent = new Map<Buffer, Buffer>();
  /** `alloc`: where new buffers come from (the target's aligned ones when it is written O_DIRECT). */
  constructor(
    readonly chunk: number,
    private readonly alloc: (size: number) => Promise<Buffer> | Buffer,
  ) {}
  async take(size: number): Promise<Buffer> {
    const i = this.free.findIndex((b) => b.length >= size);
    const whole = i >= 0 ? this.free.splice(i, 1)[0] : await this.alloc(Math.max(size, this.chunk));
    const view = whole.subarray(0, size);
    this.lent.set(view, whole);
    return view;
  }
  give(buf: Buffer): void {
    this.free.push(this.lent.get(buf) ?? buf);
    this.lent.delete(buf);
  }
}

/**
 * New chunk buffers for the page-cache paths: page-aligned (allocPageAligned: the kernel copies twice as
 * fast), several carved from one allocation.
 */
function pageAlignedChunks(): (size: number) => Buffer {
  let slab = Buffer.alloc(0);
  return (size) => {
    const whole = Math.ceil(size / 4096) * 4096;
    if (slab.length < whole) slab = allocPageAligned(Math.max(whole, 8 * 1024 * 1024));
    const buf = slab.subarray(0, size);
    slab = slab.subarray(whole);
    return buf;
  };
}

/** Reads [start, start + length) in pool.chunk pieces aligned to `align`, READ_AHEAD reads ahead of the consumer. */
async function* chunks(src: Image, start: number, length: number, align: number, pool: BufferPool, signal?: AbortSignal): AsyncGenerator<{ at: number; bytes: Buffer }> {
  const end = start + length;
  const first = start - (start % align);
  const step = Math.max(pool.chunk, align); // whole output clusters per chunk
  const read = async (at: number): Promise<{ at: number; bytes: Buffer }> => {
    const n = Math.min(step, end - at, src.size - at);
    const bytes = await pool.take(Math.ceil(n / align) * align);
    await src.read(bytes.subarray(0, n), at);
    bytes.fill(0, n);
    return { at, bytes };
  };
  const pending: Promise<{ at: number; bytes: Buffer }>[] = [];
  let at = first;
  const fill = (): void => {
    while (pending.length < READ_AHEAD && at < end) {
      const chunk = read(at);
      // A read ahead that fails after an earlier one already ended the convert is not unhandled.
      chunk.catch(() => undefined);
      pending.push(chunk);
      at += Math.min(step, Math.ceil((end - at) / align) * align);
    }
  };
  fill();
  while (pending.length > 0) {
    signal?.throwIfAborted();
    const current = await pending.shift()!;
    fill();
    yield current;
  }
}

async function toQcow2(src: Image, target: string, options: ConvertOptions): Promise<void> {
  const builder = await Qcow2Builder.create(target, {
    size: src.size,
    clusterBits: Math.log2(options.clusterSize ?? 65536),
    version: options.version ?? 3,
    refcountOrder: Math.log2(options.refcountBits ?? 16),
    lazyRefcounts: options.lazyRefcounts,
    extendedL2: options.extendedL2,
  }, { direct: options.direct });
  const cs = builder.geometry.clusterSize;
  const zero = Buffer.alloc(cs);
  const limit = Math.min(cs - 1, maxCompressedSize(builder.geometry));
  const pool = new BufferPool(CHUNK, options.direct ? (size) => builder.allocBuffer(size) : pageAlignedChunks());
  try {
    let done = -1; // last guest cluster written: ranges may share a cluster at their edges
    for (const range of await dataRanges(src, cs)) {
      for await (const { at, bytes } of chunks(src, range.start, range.length, cs, pool, options.signal)) {
        options.onProgress?.(Math.min(src.size, at + bytes.length) / src.size);
        const firstCluster = at / cs;
        if (options.compress) {
          const jobs: Promise<{ cluster: number; data: Buffer; deflated: Buffer }>[] = [];
          for (let i = 0; i < bytes.length / cs; i++) {
            const data = bytes.subarray(i * cs, (i + 1) * cs);
            if (firstCluster + i <= done || data.equals(zero)) continue;
            jobs.push(deflate(data, { windowBits: 12, level: constants.Z_DEFAULT_COMPRESSION }).then((deflated) => ({ cluster: firstCluster + i, data, deflated })));
          }
          for (const job of jobs) {
            const { cluster, data, deflated } = await job;
            if (deflated.length <= limit) await builder.addCompressed(cluster, deflated);
            else await (await builder.addClusters(cluster, data)).written;
            done = cluster;
          }
          pool.give(bytes); // addClusters above waited for its write: the buffer is free
          continue;
        }
        // Runs of non-zero clusters go in one call, so they become one write.
        let runStart = -1;
        const clusters = bytes.length / cs;
        const written: Promise<void>[] = [];
        for (let i = 0; i <= clusters; i++) {
          const skip = i === clusters || firstCluster + i <= done || bytes.subarray(i * cs, (i + 1) * cs).equals(zero);
          if (!skip && runStart < 0) runStart = i;
          if (skip && runStart >= 0) {
            written.push((await builder.addClusters(firstCluster + runStart, bytes.subarray(runStart * cs, i * cs))).written);
            done = firstCluster + i - 1;
            runStart = -1;
          }
        }
        void Promise.all(written).then(() => pool.give(bytes), () => undefined);
      }
    }
    options.signal?.throwIfAborted();
    await builder.finish(options.sync ?? false);
  } catch (error) {
    await builder.abort();
    throw error;
  }
}

async function toRaw(src: Image, target: string, { sync = false, signal, onProgress }: ConvertOptions): Promise<void> {
  const file = await ImageFile.create(target);
  const pool = new BufferPool(CHUNK, pageAlignedChunks());
  const block = 4096;
  const zero = Buffer.alloc(block);
  try {
    await file.allocateAhead(); // each run of data blocks is allocated, then written
    for (const range of await dataRanges(src, block)) {
      for await (const { at, bytes } of chunks(src, range.start, range.length, block, pool, signal)) {
        const n = Math.min(bytes.length, src.size - at);
        onProgress?.((at + n) / src.size);
        // Write runs of non-zero blocks; zero blocks stay holes.
        let runStart = -1;
        const blocks = Math.ceil(n / block);
        for (let i = 0; i <= blocks; i++) {
          const skip = i === blocks || bytes.subarray(i * block, Math.min(n, (i + 1) * block)).equals(zero.subarray(0, Math.min(block, n - i * block)));
          if (!skip && runStart < 0) runStart = i;
          if (skip && runStart >= 0) {
            // On this thread, as Qcow2Builder writes (see its issue()): the buffer is free right after.
            file.writeNow(bytes.subarray(runStart * block, Math.min(n, i * block)), at + runStart * block);
            runStart = -1;
          }
        }
        pool.give(bytes);
      }
    }
    signal?.throwIfAborted();
    await file.truncate(src.size);
    if (sync) await file.sync();
  } finally {
    await file.close();
  }
}
