// formatInstruction against iced-x86's Intel formatter (memory sizes always shown, a space after each
// comma) on the generated encodings of test-encodings.ts and a sample of the kernel .text: wherever both
// decoders decode an instruction alike, the text must be the same, apart from KNOWN_DIFFERENCES.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Decoder, DecoderOptions, Formatter, FormatterSyntax, Instruction, MemorySizeOptions } from 'iced-x86';
import { findVmlinuz, prepareCorpus, readObjdump } from '../../../../bench/x86/prepare.mjs';
import { itNeeds } from '../../../../test/support/requirements.js';
import { formatInstruction } from './format.js';
import { type Bitness, decodeOne } from './index.js';
import { addressingEncodings, evexVariantEncodings, LEGACY_MAPS, modrmRegEncodings, opcodeEncodings, PREFIXES_32, PREFIXES_64, vexEncodings } from './test-encodings.js';

const IP = 0xffff_ffff_8100_0000n;
// The larger generated sets take 10-20 s on a loaded machine: a limit against a hang, not a timing assertion.
const LARGE_SET = 120_000;
const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');

interface Tally {
  agree: number;
  differ: string[];
}

function compare(encodings: Uint8Array[], bitness: Bitness, tally: Tally): void {
  const formatter = new Formatter(FormatterSyntax.Intel);
  formatter.memorySizeOptions = MemorySizeOptions.Always;
  formatter.spaceAfterOperandSeparator = true;
  const instr = new Instruction();
  for (const bytes of encodings) {
    const decoder = new Decoder(bitness, bytes, DecoderOptions.None);
    decoder.ip = IP;
    decoder.decodeOut(instr);
    decoder.free();
    const ours = decodeOne(bytes, { bitness, ip: IP });
    // Only where both decode (oracle.test.ts holds the decoders to the same instruction there).
    if (instr.isInvalid || ours.status !== 'ok' || instr.length !== ours.length) continue;
    const expected = formatter.format(instr);
    const actual = formatInstruction(ours, { syntax: 'intel' });
    if (expected === actual || knownDifference(expected, actual)) tally.agree++;
    else tally.differ.push(`${bitness}: ${hex(bytes.subarray(0, ours.length))}\n    iced ${expected}\n    ours ${actual}`);
  }
  instr.free();
  formatter.free();
}

const newTally = (): Tally => ({ agree: 0, differ: [] });

// Where iced's text is not what its own decoder decoded, ours is kept:
// - a 64-bit immediate whose low 32 bits are 0-9 comes out of iced-x86 (npm 1.21) as those low bits
//   alone (mov rax, 100000001h is printed "mov rax, 1"), as if the small-number check saw 32 bits;
// - 0F 0D /4-/7 are prefetch_reserved in iced's Intel syntax and /0 is prefetch_exclusive, while both
//   are the one Mnemonic.Prefetch that a record carries: ours prints prefetch_exclusive for all;
// - XBEGIN with a 66 prefix in 32-bit code: iced's decoder truncates the target to 16 bits (as the
//   SDM says, and as ours does) but its formatter prints the untruncated one;
// - VMOVW with EVEX.W1: iced's decoder reports a 64-bit register, its formatter prints the 32-bit name;
// - EVEX gathers and scatters: iced prints the opmask as an operand of its own ("xmm0, k3, [...]") where
//   its decoder reports it as the instruction's opmask, which ours prints as for every other ({k3}).
function knownDifference(iced: string, ours: string): boolean {
  if (/^vmovw /.test(iced) && ours.replace(/\br(\w\w)\b/, 'e$1').replace(/\b(r\d+)\b(?!d)/, '$1d') === iced) return true;
  const vsib = /^(v(?:p?gather|p?scatter)\w+) (.*), (k\d), (.*)$/.exec(iced);
  if (vsib && ours === `${vsib[1]} ${vsib[2]}{${vsib[3]}}, ${vsib[4]}`) return true;
  const xbegin = /^xbegin ([0-9A-F]+)h$/.exec(iced);
  if (xbegin && ours === `xbegin ${(parseInt(xbegin[1], 16) & 0xffff).toString(16).toUpperCase()}h`) return true;
  const imm64 = /^(.*), (\d)$/.exec(iced);
  if (imm64) {
    const m = /^(.*), (0?[0-9A-F]+)h$/.exec(ours);
    if (m && m[1] === imm64[1] && (BigInt(`0x${m[2]}`) & 0xffff_ffffn) === BigInt(imm64[2])) return true;
  }
  return iced.startsWith('prefetch_reserved ') && ours === iced.replace('prefetch_reserved', 'prefetch_exclusive');
}


describe('formatInstruction against iced-x86 (Intel syntax)', () => {
  it('formats the everyday forms', () => {
    const text = (s: string, bitness: Bitness = 64) => formatInstruction(decodeOne(Uint8Array.from(s.split(' ').map((x) => parseInt(x, 16))), { bitness, ip: IP }));
    expect(text('89 48 10')).toBe('mov dword ptr [rax+10h], ecx');
    expect(text('48 8b 05 10 00 00 00')).toBe('mov rax, qword ptr [0FFFFFFFF81000017h]');
    expect(text('f3 a4')).toBe('rep movsb byte ptr [rdi], byte ptr [rsi]');
    expect(text('64 48 8b 04 25 28 00 00 00')).toBe('mov rax, qword ptr fs:[28h]');
    expect(text('f0 48 0f c1 01')).toBe('lock xadd qword ptr [rcx], rax');
    expect(text('83 c0 ff')).toBe('add eax, 0FFFFFFFFh');
    expect(text('8b 45 fc', 32)).toBe('mov eax, dword ptr [ebp-4]');
    expect(text('06')).toBe('(bad)');
  });

  it.each(LEGACY_MAPS)('agrees on every %s opcode with prefixes and ModRM forms', (_name, escape) => {
    const t = newTally();
    compare(opcodeEncodings(escape, PREFIXES_64), 64, t);
    compare(opcodeEncodings(escape, PREFIXES_32), 32, t);
    expect(t.differ.slice(0, 40)).toEqual([]);
    expect(t.agree).toBeGreaterThan(4000);
  }, LARGE_SET);

  it('agrees on every addressing form in 16-, 32- and 64-bit code', () => {
    const t = newTally();
    for (const [bitness, encodings] of addressingEncodings()) compare(encodings, bitness, t);
    expect(t.differ.slice(0, 40)).toEqual([]);
  });

  it('agrees on the VEX and EVEX space', () => {
    const t = newTally();
    compare(vexEncodings(), 64, t);
    expect(t.differ.slice(0, 40)).toEqual([]);
    expect(t.agree).toBeGreaterThan(3000);
  });

  it('agrees on EVEX opmasks, zeroing, broadcasts ({1toN}), static rounding and SAE, and every ModRM.reg of VEX and EVEX', () => {
    const t = newTally();
    compare(evexVariantEncodings(), 64, t);
    compare(modrmRegEncodings(), 64, t);
    expect(t.differ.slice(0, 40)).toEqual([]);
    expect(t.agree).toBeGreaterThan(30_000);
  }, LARGE_SET);

  const vmlinuz = findVmlinuz();
  itNeeds({ tools: ['objdump', 'objcopy', 'xz'], files: [vmlinuz ?? '/boot/vmlinuz-* (apt-get install linux-image-amd64)'] })(
    'agrees on a sample of the kernel .text',
    async () => {
      const paths = await prepareCorpus({ vmlinuz });
      const text = new Uint8Array(readFileSync(paths.text));
      const { offsets, lengths } = readObjdump(paths.objdump);
      const encodings: Uint8Array[] = [];
      for (let k = 0; k < offsets.length; k += 37) {
        if (lengths[k] !== 0) encodings.push(text.slice(offsets[k], offsets[k] + 15));
      }
      const t = newTally();
      compare(encodings, 64, t);
      expect(t.differ.slice(0, 40)).toEqual([]);
      expect(t.agree).toBeGreaterThan(100_000);
    },
    120_000,
  );
});
