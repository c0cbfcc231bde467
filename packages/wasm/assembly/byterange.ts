// Hot loops behind src/byterange/index.ts. The facade owns memory: it copies one chunk of input to `a`
// (and `b`), calls one export, then reads `count` runs at `out` as u32 pairs [start, end) of byte
// offsets into the chunk. It sizes `out` for the worst case (every other block selected), so nothing
// here checks capacity. Blocks are 1 << shift bytes; the last one may be partial.
//
// A block is clean when its difference vector is all zero: the bytes themselves for zeroRuns, a ^ b for
// diffRuns. zeroRuns selects clean blocks, diffRuns dirty ones. Both share one scanner whose `diff`
// argument is a constant at each inlined call site, so -O3 folds it into two specialised loops.

export { heapBase } from './shared/heap';

// Run-building state of the current call: the facade makes one call per chunk, never concurrently.
let out: usize = 0;
let count: u32 = 0;
let open: bool = false;
let start: u32 = 0;

export function zeroRuns(a: usize, len: u32, shift: u32, outPtr: usize): u32 {
  return scan(a, 0, len, shift, outPtr, false);
}

export function diffRuns(a: usize, b: usize, len: u32, shift: u32, outPtr: usize): u32 {
  return scan(a, b, len, shift, outPtr, true);
}

// @ts-ignore: decorator
@inline function scan(a: usize, b: usize, len: u32, shift: u32, outPtr: usize, diff: bool): u32 {
  out = outPtr;
  count = 0;
  open = false;
  const size: u32 = 1 << shift;
  let pos: u32 = 0;
  // Blocks under 16 bytes: a lane-compare bitmask classifies a 64-byte group's 8 to 64 blocks at once.
  if (size < 16) {
    for (; pos + 64 <= len; pos += 64) markGroup(cleanMask(a + pos, b + pos, shift, diff), shift, pos, diff);
  }
  // Larger blocks, and the tail of small ones, one block at a time with an early exit.
  while (pos < len) {
    const end = min(pos + size, len);
    mark(pos, isClean(a + pos, b + pos, end - pos, diff) != diff);
    pos = end;
  }
  if (open) emit(start, len);
  return count;
}

// @ts-ignore: decorator
@inline function lanes(a: usize, b: usize, diff: bool): v128 {
  return diff ? v128.xor(v128.load(a), v128.load(b)) : v128.load(a);
}

// @ts-ignore: decorator
@inline function isClean(a: usize, b: usize, n: u32, diff: bool): bool {
  let i: usize = 0;
  // One branch per 64 bytes: zero blocks are read to the end, so the reduction must be cheap.
  for (; i + 64 <= n; i += 64) {
    const x = v128.or(
      v128.or(lanes(a + i, b + i, diff), lanes(a + i + 16, b + i + 16, diff)),
      v128.or(lanes(a + i + 32, b + i + 32, diff), lanes(a + i + 48, b + i + 48, diff)),
    );
    if (v128.any_true(x)) return false;
  }
  for (; i + 16 <= n; i += 16) {
    if (v128.any_true(lanes(a + i, b + i, diff))) return false;
  }
  for (; i < n; i++) {
    const x = diff ? load<u8>(a + i) ^ load<u8>(b + i) : load<u8>(a + i);
    if (x) return false;
  }
  return true;
}

// Bit k is set when block k of the 64-byte group at a is clean; the group holds 64 >> shift blocks.
// @ts-ignore: decorator
@inline function cleanMask(a: usize, b: usize, shift: u32, diff: bool): u64 {
  const x0 = lanes(a, b, diff);
  const x1 = lanes(a + 16, b + 16, diff);
  const x2 = lanes(a + 32, b + 32, diff);
  const x3 = lanes(a + 48, b + 48, diff);
  const z = i64x2.splat(0);
  let m0: u64, m1: u64, m2: u64, m3: u64;
  if (shift == 0) {
    m0 = i8x16.bitmask(i8x16.eq(x0, z)); m1 = i8x16.bitmask(i8x16.eq(x1, z));
    m2 = i8x16.bitmask(i8x16.eq(x2, z)); m3 = i8x16.bitmask(i8x16.eq(x3, z));
  } else if (shift == 1) {
    m0 = i16x8.bitmask(i16x8.eq(x0, z)); m1 = i16x8.bitmask(i16x8.eq(x1, z));
    m2 = i16x8.bitmask(i16x8.eq(x2, z)); m3 = i16x8.bitmask(i16x8.eq(x3, z));
  } else if (shift == 2) {
    m0 = i32x4.bitmask(i32x4.eq(x0, z)); m1 = i32x4.bitmask(i32x4.eq(x1, z));
    m2 = i32x4.bitmask(i32x4.eq(x2, z)); m3 = i32x4.bitmask(i32x4.eq(x3, z));
  } else {
    m0 = i64x2.bitmask(i64x2.eq(x0, z)); m1 = i64x2.bitmask(i64x2.eq(x1, z));
    m2 = i64x2.bitmask(i64x2.eq(x2, z)); m3 = i64x2.bitmask(i64x2.eq(x3, z));
  }
  const per = 16 >> shift; // blocks per vector
  return m0 | (m1 << per) | (m2 << (2 * per)) | (m3 << (3 * per));
}

// Feeds a group's clean mask to the run builder, jumping from one state change to the next with ctz
// instead of visiting every block; a group with no change (the common case) costs one compare.
// @ts-ignore: decorator
@inline function markGroup(clean: u64, shift: u32, pos: u32, diff: bool): void {
  const blocks = 64 >> shift;
  const full: u64 = blocks == 64 ? ~0 : (<u64>1 << blocks) - 1;
  const selected = diff ? ~clean & full : clean;
  if (selected == (open ? full : 0)) return;
  let k: u64 = 0;
  while (true) {
    // Blocks from k on whose state differs from the run's; after a toggle bit k matches, so k advances.
    const change = ((open ? ~selected : selected) & full) >> k;
    if (change == 0) return;
    k += ctz(change);
    mark(pos + (<u32>k << shift), !open);
  }
}

// @ts-ignore: decorator
@inline function mark(pos: u32, selected: bool): void {
  if (selected == open) return;
  if (selected) start = pos;
  else emit(start, pos);
  open = selected;
}

// @ts-ignore: decorator
@inline function emit(from: u32, to: u32): void {
  store<u32>(out, from);
  store<u32>(out, to, 4);
  out += 8;
  count++;
}
