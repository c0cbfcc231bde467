// The decoder against iced-x86 (a complete, well-tested decoder, here as a dev-dependency oracle) on
// generated encodings: every opcode of every legacy map under prefix combinations and ModRM forms,
// every ModRM/SIB addressing form in each mode, the VEX/EVEX space, and a sample of the kernel corpus.
// Where both decode an instruction, length, mnemonic and every operand must agree. Where iced decodes
// an instruction our tables lack, that is a coverage gap, and there are none: not in the legacy maps,
// VEX, or EVEX (maps 0F, 0F38, 0F3A and the FP16 maps 5 and 6). The reverse (we decode what iced
// rejects) fails too.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Decoder, DecoderOptions, Instruction, Mnemonic, MemorySizeExt, OpKind, Register } from 'iced-x86';
import { findVmlinuz, prepareCorpus, readObjdump } from '../../../../bench/x86/prepare.mjs';
import { itNeeds } from '../../../../test/support/requirements.js';
import { type Bitness, type DecodedInstruction, decodeOne } from './index.js';
import { addressingEncodings, evexVariantEncodings, LEGACY_MAPS, modrmRegEncodings, opcodeEncodings, PREFIXES_32, PREFIXES_64, TAIL, vexEncodings } from './test-encodings.js';

const IP = 0x7fff_0000_1000n;
// The larger generated sets take 10-20 s on a loaded machine: a limit against a hang, not a timing assertion.
const LARGE_SET = 120_000;
const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
const MASK64 = (1n << 64n) - 1n;

interface Verdict {
  agree: number;
  gaps: string[]; // iced decodes, we do not
  extra: string[]; // we decode, iced does not
  differ: string[]; // both decode, differently
}

function describeIced(instr: Instruction): string[] {
  const ops: string[] = [];
  for (let i = 0; i < instr.opCount; i++) {
    const kind = instr.opKind(i);
    switch (kind) {
      case OpKind.Register:
        ops.push(`reg ${Register[instr.opRegister(i)].toLowerCase()}`);
        break;
      case OpKind.NearBranch16:
      case OpKind.NearBranch32:
      case OpKind.NearBranch64:
        ops.push(`near ${instr.nearBranchTarget.toString(16)}`);
        break;
      case OpKind.FarBranch16:
      case OpKind.FarBranch32:
        ops.push(`far ${instr.farBranchSelector.toString(16)}:${(kind === OpKind.FarBranch16 ? instr.farBranch16 : instr.farBranch32).toString(16)}`);
        break;
      case OpKind.Immediate8:
      case OpKind.Immediate8_2nd:
        ops.push(`imm ${(instr.immediate(i) & 0xffn).toString(16)}`);
        break;
      case OpKind.Immediate16:
      case OpKind.Immediate8to16:
        ops.push(`imm ${(instr.immediate(i) & 0xffffn).toString(16)}`);
        break;
      case OpKind.Immediate32:
      case OpKind.Immediate8to32:
        ops.push(`imm ${(instr.immediate(i) & 0xffff_ffffn).toString(16)}`);
        break;
      case OpKind.Immediate64:
      case OpKind.Immediate8to64:
      case OpKind.Immediate32to64:
        ops.push(`imm ${(instr.immediate(i) & MASK64).toString(16)}`);
        break;
      case OpKind.MemorySegSI:
      case OpKind.MemorySegESI:
      case OpKind.MemorySegRSI:
        ops.push(`mem ${Register[instr.memorySegment].toLowerCase()}:[${['si', 'esi', 'rsi'][kind - OpKind.MemorySegSI]}+0] ${MemorySizeExt.size(instr.memorySize)}`);
        break;
      case OpKind.MemorySegDI:
      case OpKind.MemorySegEDI:
      case OpKind.MemorySegRDI:
        ops.push(`mem ${Register[instr.memorySegment].toLowerCase()}:[${['di', 'edi', 'rdi'][kind - OpKind.MemorySegDI]}+0] ${MemorySizeExt.size(instr.memorySize)}`);
        break;
      case OpKind.MemoryESDI:
      case OpKind.MemoryESEDI:
      case OpKind.MemoryESRDI:
        ops.push(`mem es:[${['di', 'edi', 'rdi'][kind - OpKind.MemoryESDI]}+0] ${MemorySizeExt.size(instr.memorySize)}`);
        break;
      case OpKind.Memory: {
        const base = instr.memoryBase === Register.None ? '' : Register[instr.memoryBase].toLowerCase();
        const index = instr.memoryIndex === Register.None ? '' : `+${Register[instr.memoryIndex].toLowerCase()}*${instr.memoryIndexScale}`;
        ops.push(`mem ${Register[instr.memorySegment].toLowerCase()}:[${base}${index}+${instr.memoryDisplacementU64.toString(16)}] ${MemorySizeExt.size(instr.memorySize)}`);
        break;
      }
      default:
        ops.push(`kind ${OpKind[kind]}`);
    }
  }
  return ops;
}

function describeOurs(d: DecodedInstruction): string[] {
  const next = d.ip + BigInt(d.length);
  return d.operands.map((op) => {
    switch (op.kind) {
      case 'register':
        return `reg ${op.register}`;
      case 'nearBranch':
        return `near ${op.target.toString(16)}`;
      case 'farBranch':
        return `far ${op.selector.toString(16)}:${op.offset.toString(16)}`;
      case 'immediate': {
        return `imm ${op.value.toString(16)}`;
      }
      case 'memory': {
        // iced reports a RIP-relative displacement resolved, and displacements in the address size.
        let disp = op.displacement;
        if (op.base === 'rip') disp = (next + disp) & MASK64;
        else if (op.base === 'eip') disp = (next + disp) & 0xffff_ffffn;
        else disp &= d.addressSize === 8 ? MASK64 : d.addressSize === 4 ? 0xffff_ffffn : 0xffffn;
        const index = op.index ? `+${op.index}*${op.scale}` : '';
        return `mem ${op.segment}:[${op.base ?? ''}${index}+${disp.toString(16)}] ${op.size}`;
      }
    }
  });
}

/** EVEX opmask, zeroing, broadcast, static rounding and SAE, as one string. */
function icedEvex(instr: Instruction): string {
  const mask = instr.opMask === Register.None ? '' : `{${Register[instr.opMask].toLowerCase()}}`;
  const rounding = ['', '{rn}', '{rd}', '{ru}', '{rz}'][instr.roundingControl];
  return `${mask}${instr.zeroingMasking ? '{z}' : ''}${instr.isBroadcast ? '{bcst}' : ''}${rounding}${instr.suppressAllExceptions ? '{sae}' : ''}`;
}

function ourEvex(d: DecodedInstruction): string {
  const mask = d.mask ? `{${d.mask.register}}${d.mask.zeroing ? '{z}' : ''}` : '';
  return `${mask}${d.broadcast ? '{bcst}' : ''}${d.rounding ? `{${d.rounding}}` : ''}${d.sae ? '{sae}' : ''}`;
}

/** Immediates compare at the width iced reports them in. */
function sameOperands(ours: string[], iced: string[]): boolean {
  if (ours.length !== iced.length) return false;
  return ours.every((o, i) => {
    if (o === iced[i]) return true;
    if (o.startsWith('imm ') && iced[i].startsWith('imm ')) {
      const width = iced[i].length - 4 <= 2 ? 0xffn : iced[i].length - 4 <= 4 ? 0xffffn : iced[i].length - 4 <= 8 ? 0xffff_ffffn : MASK64;
      return (BigInt(`0x${o.slice(4)}`) & width) === BigInt(`0x${iced[i].slice(4)}`) || (BigInt(`0x${o.slice(4)}`) & 0xffff_ffffn) === BigInt(`0x${iced[i].slice(4)}`);
    }
    return false;
  });
}

function compare(encodings: Uint8Array[], bitness: Bitness, verdict: Verdict): void {
  const instr = new Instruction();
  for (const bytes of encodings) {
    const decoder = new Decoder(bitness, bytes, DecoderOptions.None);
    decoder.ip = IP;
    decoder.decodeOut(instr);
    const ours = decodeOne(bytes, { bitness, ip: IP });
    const icedValid = !instr.isInvalid;
    const oursValid = ours.status === 'ok';
    const where = `${bitness}: ${hex(bytes.subarray(0, icedValid ? instr.length : ours.length))}`;
    decoder.free();
    if (!icedValid && !oursValid) continue;
    if (icedValid && !oursValid) {
      verdict.gaps.push(`${where} ${Mnemonic[instr.mnemonic].toLowerCase()}`);
      continue;
    }
    if (!icedValid) {
      verdict.extra.push(`${where} ${ours.mnemonic}`);
      continue;
    }
    const icedOps = [...describeIced(instr), icedEvex(instr)];
    const ourOps = [...describeOurs(ours), ourEvex(ours)];
    const icedMnemonic = Mnemonic[instr.mnemonic].toLowerCase();
    if (instr.length !== ours.length || icedMnemonic !== ours.mnemonic || !sameOperands(ourOps, icedOps)) {
      verdict.differ.push(`${where}\n    iced ${instr.length} ${icedMnemonic} ${icedOps.join(', ')}\n    ours ${ours.length} ${ours.mnemonic} ${ourOps.join(', ')}`);
    } else verdict.agree++;
  }
  instr.free();
}

const newVerdict = (): Verdict => ({ agree: 0, gaps: [], extra: [], differ: [] });
const isFp16Map = (e: Uint8Array) => e[0] === 0x62 && (e[1]! & 7) >= 5;

describe('x86 decoder against iced-x86', () => {
  it.each(LEGACY_MAPS)('agrees on every %s opcode with prefixes and ModRM forms', (name, escape) => {
    const v = newVerdict();
    compare(opcodeEncodings(escape, PREFIXES_64), 64, v);
    compare(opcodeEncodings(escape, PREFIXES_32), 32, v);
    expect({ differ: v.differ.slice(0, 30), extra: v.extra.slice(0, 30) }).toEqual({ differ: [], extra: [] });
    expect(v.agree).toBeGreaterThan(4000);
    expect(v.gaps.slice(0, 30)).toEqual([]);
  }, LARGE_SET);

  it('agrees on every ModRM and SIB addressing form in 16-, 32- and 64-bit code', () => {
    const v = newVerdict();
    for (const [bitness, encodings] of addressingEncodings()) compare(encodings, bitness, v);
    expect(v.differ.slice(0, 30)).toEqual([]);
    expect(v.gaps.length + v.extra.length).toBe(0);
  });

  it('agrees where both decode the VEX and EVEX space', () => {
    const v = newVerdict();
    const encodings = vexEncodings();
    compare(encodings, 64, v);
    expect({ differ: v.differ.slice(0, 30), extra: v.extra.slice(0, 30) }).toEqual({ differ: [], extra: [] });
    expect(v.agree).toBeGreaterThan(3000);
    expect(v.gaps.slice(0, 30)).toEqual([]);
  });

  it('decodes the AVX512-FP16 maps 5 and 6 wherever iced does, operand by operand', () => {
    const v = newVerdict();
    compare(vexEncodings().filter(isFp16Map), 64, v);
    expect({ differ: v.differ.slice(0, 30), extra: v.extra.slice(0, 30), gaps: v.gaps.slice(0, 30) }).toEqual({ differ: [], extra: [], gaps: [] });
    expect(v.agree).toBeGreaterThan(400);
  });

  it('agrees on every ModRM.reg of every VEX and EVEX opcode (the groups), memory and register forms', () => {
    const v = newVerdict();
    compare(modrmRegEncodings(), 64, v);
    expect({ differ: v.differ.slice(0, 30), extra: v.extra.slice(0, 30), gaps: v.gaps.slice(0, 30) }).toEqual({ differ: [], extra: [], gaps: [] });
    expect(v.agree).toBeGreaterThan(10_000);
  }, LARGE_SET);

  it('agrees on EVEX opmask, zeroing, broadcast and rounding variants of the EVEX space, register forms too', () => {
    const v = newVerdict();
    compare(evexVariantEncodings(), 64, v);
    expect({ differ: v.differ.slice(0, 30), extra: v.extra.slice(0, 30), gaps: v.gaps.slice(0, 30) }).toEqual({ differ: [], extra: [], gaps: [] });
    expect(v.agree).toBeGreaterThan(2000);
  }, LARGE_SET);

  it('agrees with every register field extended (VEX.R, X, B and vvvv; EVEX also R\' and V\'), with and without an opmask', () => {
    // Registers 8-15 (VEX) and 16-31 (EVEX), a base and index of r12: opmask and tile registers do not
    // extend, and an extension bit that would name k8 or above makes the encoding invalid.
    const v = newVerdict();
    const encodings: Uint8Array[] = [];
    for (const e of vexEncodings()) {
      // VEX byte 1 R X B (EVEX P0 R X B R') and vvvv cleared (inverted: register 15); EVEX P2 V' cleared.
      const vex = e[0] === 0xc4;
      const extended = e.slice();
      extended[1] = e[1]! & (vex ? 0x1f : 0x0f);
      extended[2] = e[2]! & 0x87;
      const masks = vex ? [extended] : [0x00, 0x01].map((aaa) => Uint8Array.from(extended.map((b, i) => (i === 3 ? (b & 0x60) | aaa : b))));
      for (const memory of masks) {
        const register = memory.slice();
        register[vex ? 4 : 5] = 0xd1;
        encodings.push(memory, register);
      }
    }
    compare(encodings, 64, v);
    expect({ differ: v.differ.slice(0, 30), extra: v.extra.slice(0, 30), gaps: v.gaps.slice(0, 30) }).toEqual({ differ: [], extra: [], gaps: [] });
    expect(v.agree).toBeGreaterThan(10_000);
  }, LARGE_SET);

  it('agrees on the edge cases the generated sets do not reach', () => {
    // VSIB with other indexes and without a SIB, AMX tiles that must differ or need a SIB, tilezero.
    const cases = ['c4 e2 7b 49 c0', 'c4 e2 7b 49 d8', 'c4 e2 7b 49 c1', 'c4 e2 7b 4b 00', 'c4 e2 7b 4b 04 20', 'c4 62 7b 4b 04 20', 'c4 e2 7a 5c d2',
      'c4 e2 6a 5c d1', 'c4 e2 51 90 04 28', 'c4 e2 51 90 04 20', 'c4 a2 51 90 04 20', 'c4 e2 55 92 44 2c 08', 'c4 e2 51 90 00', 'c4 e2 d5 91 0c e0',
      'f3 0f 01 ee', '66 0f 01 ee', 'f3 0f a7 c8', '0f a7 c0', '67 0f f7 c1', '64 66 0f f7 c1', 'dc c0', 'd8 c0', 'c4 e1 f8 90 0b', 'c4 e1 78 93 c1',
      // EVEX: an odd opmask of a pair, VP2INTERSECT masked or broadcast, 4FMAPS on a register, SAE at any L'L, compress with a
      // negative disp8*4, masked and zeroing, W1 extracts, rounding on integer/scalar conversions, narrow conversions and
      // lane extracts by vector length, MOVHLPS and MOVLHPS.
      '62 f2 7f 08 68 4c 24 11', '62 f2 7f 09 68 44 24 11', '62 f2 7f 08 68 c9', '62 f2 7f 18 68 44 24 11', '62 f2 7f 48 9a c1', '62 f2 7f 48 9a 4c 24 11',
      '62 f2 7d 18 c8 c1', '62 f2 7d 38 c8 c1', '62 f2 7d 08 8a 44 24 f0', '62 f2 7d 09 8a 44 24 f0', '62 f2 7d 89 8a 44 24 f0', '62 f2 7d 89 8a c1',
      '62 f3 fd 08 14 c0 01', '62 f3 fd 08 14 44 24 11 01', '62 f1 7e 18 2a c1', '62 f1 fe 08 2a 44 24 11', '62 f1 7e 38 2d c1', '62 f1 7e 09 2d c1',
      '62 f3 7d 28 19 c1 01', '62 f3 7d 08 19 c1 01', '62 f3 7d 18 1d c1 01', '62 f1 fd 18 5a c1', '62 f1 fd 38 5a 44 24 11', '62 f2 7d 28 1a c1',
      '62 f1 7c 08 12 c1', '62 f1 7c 08 16 c1', '62 f1 7c 08 12 44 24 11',
      // FP16 in 0F3A: a 16-bit broadcast (disp8*2) and SAE, a word scalar.
      '62 f3 7c 18 c2 44 24 11 01', '62 f3 7c 58 66 44 24 11 01', '62 f3 7c 18 08 c1 01', '62 f3 7e 08 c2 44 24 11 01', '62 f3 7c 8a 26 44 24 11 01',
      // FP16 maps: maps 4 and 7 and P0 bit 3 (invalid), VMOVSH's register forms, VMOVW and VCVTSI2SH by W, L'L = 3 (a rounding
      // mode only with EVEX.b on registers), the complex multiplies' destination against vvvv and r/m (also as register 18).
      '62 f4 7c 08 58 c1', '62 f7 7c 08 58 c1', '62 fd 7c 08 58 c1', '62 f5 76 08 10 c1', '62 f5 76 0a 11 c1', '62 f5 fd 08 6e 44 24 11',
      '62 f5 fd 08 7e c1', '62 f5 fe 08 2a c1', '62 f5 7e 38 2a c1', '62 f5 7c 68 58 c1', '62 f5 7c 78 58 c1', '62 f5 7c 78 58 44 24 11',
      '62 f6 7f 08 56 c0', '62 f6 77 08 56 d1', '62 f6 77 08 56 ca', '62 f6 77 08 56 d2', '62 e6 77 08 56 d1', '62 f6 77 18 56 54 24 11',
      // EVEX gathers: no opmask, zeroing, the destination as the index, an index of 20, vvvv in use; a gather prefetch.
      '62 f2 7d 08 90 44 24 11', '62 f2 7d 8b 90 44 24 11', '62 f2 7d 0b 90 24 20', '62 f2 7d 03 90 44 24 11', '62 f2 75 0b 90 44 24 11',
      '62 f2 fd 49 c6 4c e4 11',
      // VPERMIL2PS/PD's fifth operand by W; opmask registers that an extension bit would take past k7; VLDMXCSR, VSTMXCSR.
      'c4 e3 79 48 c1 25', 'c4 e3 f9 48 44 24 11 3f', 'c4 e3 7d 49 c1 f7', 'c4 61 78 90 c1', 'c4 c1 78 90 c1', 'c5 bc 41 c1',
      'c4 e1 78 ae 54 24 11', 'c5 f8 ae 5c 24 11', '62 f1 7d 08 c5 c9 24'];
    const v = newVerdict();
    compare(cases.map((c) => Uint8Array.from([...c.split(' ').map((x) => parseInt(x, 16)), ...TAIL])), 64, v);
    expect({ differ: v.differ, extra: v.extra, gaps: v.gaps }).toEqual({ differ: [], extra: [], gaps: [] });
    expect(v.agree).toBeGreaterThanOrEqual(40); // the rest both reject
  });

  const vmlinuz = findVmlinuz();
  itNeeds({ tools: ['objdump', 'objcopy', 'xz'], files: [vmlinuz ?? '/boot/vmlinuz-* (apt-get install linux-image-amd64)'] })(
    'agrees on a sample of the kernel .text',
    async () => {
      const paths = await prepareCorpus({ vmlinuz });
      const text = new Uint8Array(readFileSync(paths.text));
      const { offsets, lengths } = readObjdump(paths.objdump);
      const encodings: Uint8Array[] = [];
      // Every 37th instruction that is not int3 padding, about 70,000.
      for (let k = 0; k < offsets.length; k += 37) {
        if (lengths[k] === 0 || text[offsets[k]] === 0xcc) continue;
        encodings.push(text.slice(offsets[k], offsets[k] + 15));
      }
      const v = newVerdict();
      compare(encodings, 64, v);
      expect({ differ: v.differ.slice(0, 30), extra: v.extra, gaps: v.gaps }).toEqual({ differ: [], extra: [], gaps: [] });
    },
    120_000,
  );
});
