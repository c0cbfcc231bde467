import { describe, expect, it } from 'vitest';
import { IsolaError } from '@isola/errors';
import { loadWasm } from '../loader.js';
import { decodeAll, decodeBatches, decodeOne, mnemonicName } from './index.js';
import { RECORD_SIZE } from './record.js';

const hex = (s: string) => Uint8Array.from(s.split(' ').map((x) => parseInt(x, 16)));
const one = (s: string, bitness: 16 | 32 | 64 = 64, ip = 0x1000n) => decodeOne(hex(s), { bitness, ip });

describe('decodeOne', () => {
  it('resolves nothing but reports RIP-relative memory with its raw displacement', () => {
    const d = one('48 8b 05 10 00 00 00');
    expect(d).toMatchObject({ mnemonic: 'mov', length: 7, operandSize: 8, memory: { read: true, write: false, size: 8 } });
    expect(d.operands[1]).toEqual({ kind: 'memory', segment: 'ds', base: 'rip', index: null, scale: 1, displacement: 16n, size: 8 });
  });

  it('decodes the immediate oddities', () => {
    expect(one('c8 10 00 01').operands).toEqual([{ kind: 'immediate', value: 16n }, { kind: 'immediate', value: 1n }]); // ENTER imm16, imm8
    expect(one('c2 08 00').operands).toEqual([{ kind: 'immediate', value: 8n }]); // RET imm16
    expect(one('48 b8 01 02 03 04 05 06 07 08').operands[1]).toEqual({ kind: 'immediate', value: 0x0807060504030201n });
    expect(one('67 a1 78 56 34 12')).toMatchObject({ length: 6, operands: [{ register: 'eax' }, { kind: 'memory', displacement: 0x12345678n }] });
    expect(one('a1 08 07 06 05 04 03 02 01').operands[1]).toMatchObject({ displacement: 0x0102030405060708n });
    expect(one('f6 c1 07')).toMatchObject({ mnemonic: 'test', length: 3 }); // F6 /0 has an immediate
    expect(one('f6 d1')).toMatchObject({ mnemonic: 'not', length: 2 }); // F6 /2 has none
    expect(one('83 c0 ff').operands[1]).toEqual({ kind: 'immediate', value: 0xffff_ffff_ffff_ffffn }); // imm8 sign-extended
    expect(one('0f 0f c1 9e')).toMatchObject({ mnemonic: 'pfadd', length: 4 }); // 3DNow! suffix
    expect(one('9a 11 22 33 44 55 66', 32).operands).toEqual([{ kind: 'farBranch', selector: 0x6655, offset: 0x44332211 }]);
    expect(one('e8 00 00 00 00').operands).toEqual([{ kind: 'nearBranch', target: 0x1005n }]);
  });

  it('honours operand- and address-size overrides in each mode', () => {
    expect(one('66 89 c8').operands).toEqual([{ kind: 'register', register: 'ax' }, { kind: 'register', register: 'cx' }]);
    expect(one('89 c8', 16).operands[0]).toEqual({ kind: 'register', register: 'ax' });
    expect(one('66 89 c8', 16).operands[0]).toEqual({ kind: 'register', register: 'eax' });
    expect(one('8b 00', 16).operands[1]).toMatchObject({ base: 'bx', index: 'si' });
    expect(one('67 8b 00').operands[1]).toMatchObject({ base: 'eax' });
  });

  it('uses the last of F2/F3 and keeps the lock prefix', () => {
    expect(one('f3 f2 a4')).toMatchObject({ mnemonic: 'movsb', rep: false, repne: true });
    expect(one('f0 48 0f c1 01')).toMatchObject({ mnemonic: 'xadd', lock: true, memory: { read: true, write: true } });
  });

  it('decodes AVX512-FP16 (EVEX maps 5 and 6): word elements, their broadcasts and disp8*N', () => {
    // vaddph zmm1{k1}{z}, zmm2, word bcst [rax+0x22]: disp8 0x11 scaled by the 2-byte element.
    expect(one('62 f5 6c d9 58 48 11')).toMatchObject({
      mnemonic: 'vaddph',
      broadcast: true,
      broadcastCount: 32,
      mask: { register: 'k1', zeroing: true },
      operands: [{ register: 'zmm1' }, { register: 'zmm2' }, { kind: 'memory', base: 'rax', displacement: 0x22n, size: 2 }],
    });
    // vcvtph2pd zmm0, xmm/m128: a quarter of the vector, so disp8*16; vmovsh's store, one word.
    expect(one('62 f5 7c 48 5a 40 01').operands[1]).toMatchObject({ kind: 'memory', displacement: 16n, size: 16 });
    expect(one('62 f5 7e 08 11 40 01')).toMatchObject({ mnemonic: 'vmovsh', memory: { read: false, write: true, size: 2 } });
    // EVEX.b on registers: vaddph rounds (L'L = 3: toward zero, at 512 bits); vmaxph only suppresses exceptions.
    expect(one('62 f5 7c 78 58 c1')).toMatchObject({ rounding: 'rz', sae: false, operands: [{ register: 'zmm0' }, { register: 'zmm0' }, { register: 'zmm1' }] });
    expect(one('62 f5 7c 18 5f c1')).toMatchObject({ rounding: null, sae: true });
    // vfcmaddcph's destination may not be a source.
    expect(one('62 f6 77 08 56 d1').mnemonic).toBe('vfcmaddcph');
    expect(one('62 f6 77 08 56 ca').status).toBe('invalid');
  });

  it("reports VPERMIL2PS's imm8[3:0] as a fifth operand", () => {
    expect(one('c4 e3 f9 48 c1 25')).toMatchObject({
      mnemonic: 'vpermil2ps',
      operands: [{ register: 'xmm0' }, { register: 'xmm0' }, { register: 'xmm2' }, { register: 'xmm1' }, { kind: 'immediate', value: 5n }],
    });
  });

  it('reports invalid, too long and truncated encodings', () => {
    expect(one('06').status).toBe('invalid'); // push es: not in 64-bit mode
    expect(one('06', 32).mnemonic).toBe('push');
    expect(one('f0 90').status).toBe('invalid'); // LOCK on a non-lockable instruction
    expect(one('0f 0b').mnemonic).toBe('ud2');
    expect(one('66 66 66 66 66 66 66 66 66 66 66 66 66 66 90')).toMatchObject({ status: 'ok', length: 15, mnemonic: 'nop' });
    expect(one('66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90')).toMatchObject({ status: 'too-long', length: 15 });
    expect(one('48 8b 05 10 00')).toMatchObject({ status: 'truncated', length: 5 });
  });

  it('rejects a bad bitness and empty input', () => {
    expect(() => decodeOne(hex('90'), { bitness: 8 as 16 })).toThrow(expect.objectContaining({ code: 'EX86_BITNESS' }));
    expect(() => decodeOne(new Uint8Array(0), { bitness: 64 })).toThrow(IsolaError);
  });
});

describe('decodeAll and decodeBatches', () => {
  it('sweeps a buffer, with addresses, across chunk borders', () => {
    // 100,000 x (mov rax, [rip+0]; ret) crosses the 64 KiB chunks at varying instruction offsets.
    const unit = hex('48 8b 05 00 00 00 00 c3');
    const code = new Uint8Array(unit.length * 100_000);
    for (let i = 0; i < 100_000; i++) code.set(unit, i * unit.length);
    const all = decodeAll(code, { bitness: 64, ip: 0x4000n });
    expect(all).toHaveLength(200_000);
    expect(all.every((d, i) => d.status === 'ok' && d.mnemonic === (i % 2 ? 'ret' : 'mov'))).toBe(true);
    expect(all[199_999].ip).toBe(0x4000n + BigInt(code.length - 1));
    let count = 0;
    for (const batch of decodeBatches(code, { bitness: 64 })) count += batch.count;
    expect(count).toBe(200_000);
  });

  it('keeps a batch intact while other sweeps run, nested deeper than the leased regions', () => {
    const code = hex('48 8b 05 00 00 00 00 c3 90 cc cc 0f 0b');
    const expected = decodeAll(code, { bitness: 64 }).map((d) => d.mnemonic);
    const nest = (depth: number): string[] => {
      const seen: string[] = [];
      for (const batch of decodeBatches(code, { bitness: 64 })) {
        // Everything below runs while this batch's records are held in place.
        if (depth > 0) expect(nest(depth - 1)).toEqual(expected);
        expect(decodeOne(hex('0f a2'), { bitness: 64 }).mnemonic).toBe('cpuid');
        for (let i = 0; i < batch.count; i++) seen.push(mnemonicName(batch.mnemonicId(i)));
      }
      return seen;
    };
    expect(nest(7)).toEqual(expected);
    // Sweeps left unfinished give their region back when closed, as a for-of loop with break does.
    for (let k = 0; k < 10; k++) {
      for (const batch of decodeBatches(code, { bitness: 64 })) if (batch.count) break;
    }
    expect(nest(3)).toEqual(expected);
  });

  it.each([16, 32, 64] as const)('never crashes, hangs or depends on bytes past the input on random bytes (%s-bit)', (bitness) => {
    let seed = bitness;
    const rand = () => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) >>> 24);
    const code = Uint8Array.from({ length: 300_000 }, rand);
    const all = decodeAll(code, { bitness });
    expect(all.reduce((n, d) => n + d.length, 0)).toBe(code.length);
    expect(all.filter((d) => d.status === 'ok').length).toBeGreaterThan(all.length / 2);
    // Decode the tail straight through the module with 0xFF rather than zeros past its end: same result.
    const tail = code.subarray(code.length - 40);
    const wasm = loadWasm<RawExports>('x86');
    const codePtr = wasm.heapBase;
    const outPtr = codePtr + 4096;
    const memory = wasm.reserve(outPtr + 64 * RECORD_SIZE - codePtr);
    memory.set(tail, codePtr);
    memory.fill(0xff, codePtr + tail.length, codePtr + tail.length + wasm.exports.padding());
    const count = wasm.exports.decode(codePtr, tail.length, bitness, 0n, outPtr, 64, 1);
    const records = wasm.reserve(0).slice(outPtr, outPtr + count * RECORD_SIZE);
    const dirty = Array.from({ length: count }, (_, i) => [records[i * RECORD_SIZE], records[i * RECORD_SIZE + 1]]);
    const clean = decodeAll(tail, { bitness }).map((d) => [d.length, ['ok', 'invalid', 'too-long', 'truncated'].indexOf(d.status)]);
    expect(dirty).toEqual(clean);
  });
});

interface RawExports {
  decode(code: number, length: number, bits: number, ip: bigint, out: number, maxCount: number, final: number): number;
  padding(): number;
}
