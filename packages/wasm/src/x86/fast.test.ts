// assembly/x86/fast.ts decodes the common 64-bit forms on its own and leaves the rest to decodeOne; the
// two must write the same record, byte for byte, wherever the fast path answers. The module exports
// decodeGeneral (the sweep without the fast path) so the two can be compared on the kernel .text,
// random bytes and every generated encoding.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findVmlinuz, prepareCorpus } from '../../../../bench/x86/prepare.mjs';
import { itNeeds } from '../../../../test/support/requirements.js';
import { loadWasm } from '../loader.js';
import { RECORD_SIZE } from './record.js';
import { LEGACY_MAPS, opcodeEncodings, PREFIXES_64 } from './test-encodings.js';

type Sweep = (code: number, length: number, bits: number, ip: bigint, out: number, maxCount: number, final: number) => number;

interface Exports {
  decode: Sweep;
  decodeGeneral: Sweep;
  padding(): number;
}

const CHUNK = 64 * 1024;
const IP = 0xffff_ffff_8100_0000n;
const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');

/** Records of code (at most CHUNK bytes, decoded as final) by both sweeps; the first difference, if any. */
function firstDifference(code: Uint8Array): string | undefined {
  const wasm = loadWasm<Exports>('x86');
  const codePtr = wasm.heapBase;
  const outPtr = codePtr + CHUNK + wasm.exports.padding();
  const results: Uint8Array[] = [];
  for (const sweep of [wasm.exports.decode, wasm.exports.decodeGeneral]) {
    const memory = wasm.reserve(outPtr + CHUNK * RECORD_SIZE - codePtr);
    memory.set(code, codePtr);
    memory.fill(0, codePtr + code.length, codePtr + code.length + wasm.exports.padding());
    const count = sweep(codePtr, code.length, 64, IP, outPtr, CHUNK, 1);
    results.push(wasm.reserve(0).slice(outPtr, outPtr + count * RECORD_SIZE));
  }
  const [fast, general] = results;
  if (fast.length !== general.length) return `${fast.length / RECORD_SIZE} records with the fast path, ${general.length / RECORD_SIZE} without`;
  let at = 0;
  for (let i = 0; i < fast.length; i += RECORD_SIZE) {
    const a = fast.subarray(i, i + RECORD_SIZE);
    const b = general.subarray(i, i + RECORD_SIZE);
    if (Buffer.compare(a, b) !== 0) return `${hex(code.subarray(at, at + b[0]))}\n  fast    ${hex(a)}\n  general ${hex(b)}`;
    at += b[0];
  }
  return undefined;
}

describe('the fast path of the x86 decoder', () => {
  // The fast path takes only one-byte and 0F opcodes (it declines 0F38 and 0F3A at the escape).
  it.each(LEGACY_MAPS.slice(0, 2))('writes the records decodeOne writes for every %s opcode (64-bit)', (_name, escape) => {
    const differences: string[] = [];
    for (const bytes of opcodeEncodings(escape, PREFIXES_64)) {
      const difference = firstDifference(bytes.subarray(0, 15));
      if (difference && differences.length < 20) differences.push(difference);
    }
    expect(differences).toEqual([]);
  });

  it('writes the same records on random bytes', () => {
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) >>> 24);
    for (let round = 0; round < 8; round++) {
      expect(firstDifference(Uint8Array.from({ length: CHUNK }, rand))).toBeUndefined();
    }
  });

  const vmlinuz = findVmlinuz();
  itNeeds({ tools: ['objdump', 'objcopy', 'xz'], files: [vmlinuz ?? '/boot/vmlinuz-* (apt-get install linux-image-amd64)'] })(
    'writes the same records over the kernel .text',
    async () => {
      const text = new Uint8Array(readFileSync((await prepareCorpus({ vmlinuz })).text));
      // Chunks cut instructions at their ends; both sweeps see the same cuts.
      for (let base = 0; base < text.length; base += CHUNK) {
        const difference = firstDifference(text.subarray(base, base + CHUNK));
        if (difference) expect(`+${base.toString(16)}: ${difference}`).toBe('');
      }
    },
    120_000,
  );
});
