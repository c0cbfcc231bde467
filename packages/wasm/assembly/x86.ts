// x86 instruction decoding behind src/x86/index.ts. The facade copies one chunk of code into memory
// with PAD spare bytes after it, calls decode() once per chunk, and reads `count` records of
// RECORD_SIZE bytes at `out` (layout in x86/record.ts). The decoder itself lives in x86/.

export { heapBase } from './shared/heap';
import { decodeOne, PAD } from './x86/decoder';
import { RECORD_SIZE } from './x86/record';

let consumedBytes: u32 = 0;

/**
 * Decodes instructions one after another from code[0, length) at address ip into records at out, at
 * most maxCount. Unless final, it stops before an instruction with fewer than 15 bytes left, which may
 * continue in the next chunk; consumed() then says where the next chunk starts.
 */
export function decode(code: usize, length: u32, bits: u32, ip: u64, out: usize, maxCount: u32, final: bool): u32 {
  const end = code + length;
  let offset: u32 = 0;
  let count: u32 = 0;
  while (count < maxCount && offset < length) {
    if (!final && length - offset < 15) break;
    offset += decodeOne(code + offset, end, bits, ip + offset, out + <usize>count * RECORD_SIZE);
    count++;
  }
  consumedBytes = offset;
  return count;
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
