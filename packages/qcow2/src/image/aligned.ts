// Memory that O_DIRECT accepts. JavaScript cannot see a buffer's address, so the kernel is asked: an
// O_DIRECT read into a buffer that is not suitably aligned fails with EINVAL. A two-page read is the
// test (a small read inside one page can pass at a misaligned address, a read that crosses pages
// cannot); malloc'd memory is 16-byte aligned, so the candidates are the 16-byte steps of one page,
// the usual one for an mmapped allocation (page + 16) tried first. ArrayBuffer memory never moves, so
// the answer stays true. A registry remembers accepted buffers, so the file layer knows when to bounce.
import { readSync } from 'node:fs';

const PAGE = 4096;

/** ArrayBuffer → [byte offset inside it at a page-aligned address, the transfer block size]. */
const acceptedBase = new WeakMap<ArrayBufferLike, [number, number]>();

function tryRead(fd: number, buf: Buffer, at: number, length: number): boolean {
  try {
    readSync(fd, buf, at, length, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EINVAL') return false;
    throw error;
  }
}

/**
 * A page-aligned buffer of `size` bytes, tried against `fd` (open with O_DIRECT, on a non-empty file).
 * Returns it with the block size (512 or 4096) transfers must be multiples of.
 */
export function allocDirect(size: number, fd: number): { buf: Buffer; block: number } {
  const slab = Buffer.allocUnsafeSlow(size + 3 * PAGE);
  const candidates = [PAGE - 16, 0];
  for (let s = 16; s < PAGE; s += 16) if (s !== PAGE - 16) candidates.push(s);
  for (const shift of candidates) {
    if (!tryRead(fd, slab, shift, 2 * PAGE)) continue;
    const block = tryRead(fd, slab, shift, 512) ? 512 : PAGE;
    acceptedBase.set(slab.buffer, [slab.byteOffset + shift, block]);
    return { buf: slab.subarray(shift, shift + size), block };
  }
  throw new Error('O_DIRECT refused every start of a fresh buffer (does the file system support O_DIRECT?)');
}

/** Whether buf (a view) starts page-aligned, as far as the registry knows. */
export function isDirectReady(buf: Uint8Array, block: number): boolean {
  const base = acceptedBase.get(buf.buffer);
  return base !== undefined && base[1] <= block && (buf.byteOffset - base[0]) % PAGE === 0;
}

/**
 * `size` bytes of zeroed memory that starts on a page boundary, for large buffered transfers: the
 * kernel's copies between the page cache and a buffer that starts 16 bytes past a page (where
 * Buffer.allocUnsafeSlow's malloc'd memory starts) ran at half speed here. A 768 MiB read-then-write
 * loop of 1 MiB took 0.78-0.85 s from such a buffer and 0.36-0.40 s from a page-aligned one (qemu-img
 * convert: 0.37-0.49 s). WebAssembly memory is mapped whole pages, so its start is aligned. Each one
 * reserves address space for growth: allocate a few large ones, not one per request.
 */
export function allocPageAligned(size: number): Buffer<ArrayBuffer> {
  const pages = Math.max(1, Math.ceil(size / 65536));
  return Buffer.from(new WasmMemory({ initial: pages, maximum: pages }).buffer, 0, size);
}

/** @types/node 20 does not declare the WebAssembly global; this is the one constructor used here. */
const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: new (size: { initial: number; maximum: number }) => { buffer: ArrayBuffer } } }).WebAssembly.Memory;
