// x86 instruction decoding behind src/x86/index.ts. The facade copies one chunk of code into memory
// with PAD spare bytes after it, calls decode() once per chunk, and reads `count` records of
// RECORD_SIZE bytes at `out` (layout in x86/record.ts). The decoder itself lives in x86/.

export { heapBase } from './shared/heap';
import { decodeOne, PAD } from './x86/decoder';
import { decodeFast } from './x86/fast';
import { RECORD_SIZE } from './x86/record';

let consumedBytes: u32 = 0;

/**
 * Decodes instructions one after another from code[0, length) at address ip into records at out, at
 * most maxCount. Unless final, it stops before an instruction with fewer than 15 bytes left, which may
 * continue in the next chunk; consumed() then says where the next chunk starts.
 */
export function decode(code: usize, length: u32, bits: u32, ip: u64, out: usize, maxCount: u32, final: bool): u32 {
  return sweep(code, length, bits, ip, out, maxCount, final, true);
}

/** decode() without the fast path of x86/fast.ts, for tests that hold the two to the same records. */
export function decodeGeneral(code: usize, length: u32, bits: u32, ip: u64, out: usize, maxCount: u32, final: bool): u32 {
  return sweep(code, length, bits, ip, out, maxCount, final, false);
}

// @ts-ignore: decorator
@inline function sweep(code: usize, length: u32, bits: u32, ip: u64, out: usize, maxCount: u32, final: bool, fast: bool): u32 {
  const end = code + length;
  let offset: u32 = 0;
  let count: u32 = 0;
  while (count < maxCount && offset < length) {
    if (!final && length - offset < 15) break;
    const at = code + offset;
    const record = out + <usize>count * RECORD_SIZE;
    let n: u32 = fast && bits == 64 ? decodeFast(at, end, ip + offset, record) : 0;
    if (n == 0) n = decodeGeneralOne(at, end, bits, ip + offset, record);
    offset += n;
    count++;
    // A run of int3 padding (a third of the kernel's instructions) is copies of one record, written
    // without decoding each byte again or mispredicting the next one's path. Measured with the bench,
    // alternating builds: 3.7-5.3x iced-x86 with it, 2.9-3.6x without.
    if (fast && load<u8>(at) == 0xcc && n == 1) {
      const first = v128.load(record);
      const limit: u32 = final ? length : length >= 15 ? length - 14 : 0;
      while (count < maxCount && offset < limit && load<u8>(code + offset) == 0xcc) {
        const next = out + <usize>count * RECORD_SIZE;
        v128.store(next, first);
        v128.store(next, i64x2.splat(0), 16);
        v128.store(next, i64x2.splat(0), 32);
        offset++;
        count++;
      }
    }
  }
  consumedBytes = offset;
  return count;
}

// A call of its own: inlined, decodeOne's many live values would crowd the fast path's registers
// out of the loop (V8 spills them all each iteration).
function decodeGeneralOne(start: usize, end: usize, mode: u32, ip: u64, out: usize): u32 {
  return decodeOne(start, end, mode, ip, out);
}

export function consumed(): u32 {
  return consumedBytes;
}

export function padding(): u32 {
  return PAD;
}

export function recordSize(): u32 {
  return RECORD_SIZE;
}

// The instruction emulator (x86/emulator.ts): one block per call, laid out as src/x86/emulator.ts expects.
export { emulate } from './x86/emulator';
import { E_BLOCK_SIZE } from './x86/emulator';

export function emulatorBlockSize(): u32 {
  return E_BLOCK_SIZE;
}
