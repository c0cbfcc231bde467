// `img bench`: qemu-img bench's I/O loop. `count` requests of `size` bytes, `depth` of them in flight at
// once, at offsets from `offset` advancing by `step` and wrapping at the end of the disk; with cache
// 'none' the image is opened O_DIRECT (buffers come from Image.allocBuffer, aligned for it). The time
// covers issuing the first request to completing the last, as qemu-img bench measures it.
import { performance } from 'node:perf_hooks';
import { imageError } from '../errors.js';
import type { ImageFormat } from '../image/image.js';
import { openImage } from '../image/open.js';

export interface BenchOptions {
  count?: number;
  depth?: number;
  size?: number;
  /** Defaults to size. */
  step?: number;
  offset?: number;
  write?: boolean;
  cache?: 'none' | 'writeback';
  format?: ImageFormat;
  /** Byte written by write requests. */
  pattern?: number;
  /** Flush after every this many write requests (0: never). */
  flushInterval?: number;
}

export interface BenchResult {
  seconds: number;
  requests: number;
  opsPerSecond: number;
}

/** Most bytes of request buffers bench allocates (qemu-img would try any amount, and fail in its allocator). */
const MAX_BUFFERS = 1024 * 1024 * 1024;

export async function bench(path: string, options: BenchOptions = {}): Promise<BenchResult> {
  const count = options.count ?? 75000;
  const depth = options.depth ?? 64;
  const size = options.size ?? 4096;
  const step = options.step ?? size;
  const write = options.write ?? false;
  const flushInterval = options.flushInterval ?? 0;
  const bad = (problem: string) => imageError('EIMG_BAD_OPTION', path, problem);
  if (!Number.isInteger(count) || count < 1) throw bad(`count ${count}: the number of requests must be at least 1`);
  if (!Number.isInteger(depth) || depth < 1) throw bad(`depth ${depth}: requests in flight must be at least 1`);
  if (options.pattern !== undefined && !(Number.isInteger(options.pattern) && options.pattern >= 0 && options.pattern <= 255)) throw bad(`pattern ${options.pattern}: a byte is 0 to 255`);
  if (!Number.isInteger(flushInterval) || flushInterval < 0) throw bad(`flush interval ${flushInterval}: must be a whole number, not negative`);
  const image = await openImage(path, { readOnly: !write, direct: (options.cache ?? 'writeback') === 'none', format: options.format });
  try {
    if (!(size >= 1)) throw imageError('EIMG_BAD_OPTION', path, `request size ${size} is not a positive number of bytes`);
    if (size > image.size) throw imageError('EIMG_BAD_OPTION', path, `request size ${size} is larger than the ${image.size}-byte disk`);
    const inFlight = Math.min(depth, count);
    if (size * inFlight > MAX_BUFFERS) {
      throw imageError('EIMG_BAD_OPTION', path, `${inFlight} requests of ${size} bytes in flight need ${size * inFlight} bytes of buffers, over the ${MAX_BUFFERS}-byte limit`);
    }
    const slab = await image.allocBuffer(size * inFlight);
    slab.fill(options.pattern ?? 0);
    const span = image.size - size + 1;
    let next = (options.offset ?? 0) % span;
    let issued = 0;
    let sinceFlush = 0;
    const worker = async (buf: Buffer): Promise<void> => {
      while (issued < count) {
        issued++;
        const at = next;
        next = (next + step) % span;
        if (write) {
          await image.write(buf, at);
          if (flushInterval > 0 && ++sinceFlush >= flushInterval) {
            sinceFlush = 0;
            await image.flush();
          }
        } else {
          await image.read(buf, at);
        }
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: inFlight }, (_, i) => worker(slab.subarray(i * size, (i + 1) * size))));
    const seconds = (performance.now() - start) / 1000;
    return { seconds, requests: count, opsPerSecond: count / seconds };
  } finally {
    await image.close();
  }
}

/** qemu-img bench's two lines. */
export function formatBenchStart(options: BenchOptions): string {
  const size = options.size ?? 4096;
  return `Sending ${options.count ?? 75000} ${options.write ? 'write' : 'read'} requests, ${size} bytes each, ${options.depth ?? 64} in parallel (starting at offset ${options.offset ?? 0}, step size ${options.step ?? size})\n`;
}

export function formatBenchEnd(result: BenchResult): string {
  return `Run completed in ${result.seconds.toFixed(3)} seconds.\n`;
}
