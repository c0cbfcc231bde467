// ELF parsing and the PVH boot plan against synthetic images: each malformation gets its own code and
// a message naming the field, and none of them throws anything but an IsolaError.
import { describe, expect, it } from 'vitest';
import { IsolaError } from '@isola/errors';
import { e820Map } from '../machine/e820.js';
import { CMDLINE_ADDRESS, PVH_START_INFO_ADDRESS } from '../machine/layout.js';
import { planRegions } from '../machine/memory.js';
import { parseElf, parseNotes, PT_LOAD, PT_NOTE } from './elf.js';
import { planPvhBoot, findPvhEntry, HVM_START_MAGIC } from './pvh.js';

interface Segment {
  type: number;
  paddr: number;
  data: Uint8Array;
  memsz?: number;
}

/** A minimal ELF64: header, program headers, then each segment's bytes. */
function elf(segments: Segment[], patch: (view: DataView) => void = () => {}): Uint8Array {
  const phoff = 64;
  let offset = phoff + segments.length * 56;
  const out = new Uint8Array(offset + segments.reduce((n, s) => n + s.data.length, 0));
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, 2, true);
  v.setUint16(18, 62, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(24, 0x100000n, true);
  v.setBigUint64(32, BigInt(phoff), true);
  v.setUint16(52, 64, true);
  v.setUint16(54, 56, true);
  v.setUint16(56, segments.length, true);
  segments.forEach((s, i) => {
    const at = phoff + i * 56;
    v.setUint32(at, s.type, true);
    v.setBigUint64(at + 8, BigInt(offset), true);
    v.setBigUint64(at + 16, BigInt(s.paddr), true);
    v.setBigUint64(at + 24, BigInt(s.paddr), true);
    v.setBigUint64(at + 32, BigInt(s.data.length), true);
    v.setBigUint64(at + 40, BigInt(s.memsz ?? s.data.length), true);
    out.set(s.data, offset);
    offset += s.data.length;
  });
  patch(v);
  return out;
}

function note(owner: string, type: number, desc: number[]): Uint8Array {
  const name = Buffer.from(`${owner}\0`);
  const pad = (n: number) => (n + 3) & ~3;
  const out = new Uint8Array(12 + pad(name.length) + pad(desc.length));
  const v = new DataView(out.buffer);
  v.setUint32(0, name.length, true);
  v.setUint32(4, desc.length, true);
  v.setUint32(8, type, true);
  out.set(name, 12);
  out.set(desc, 12 + pad(name.length));
  return out;
}

const code = Uint8Array.from({ length: 64 }, (_, i) => i);
const pvhNote = note('Xen', 18, [0x40, 0x00, 0x10, 0x00, 0, 0, 0, 0]);
const good = () => elf([{ type: PT_LOAD, paddr: 0x100000, data: code, memsz: 0x1000 }, { type: PT_NOTE, paddr: 0, data: new Uint8Array([...note('GNU', 3, [1, 2, 3, 4]), ...pvhNote]) }]);
const memmap = e820Map(planRegions(16 << 20));
const isRam = (address: number, size: number) => address + size <= 16 << 20;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(IsolaError);
    return `${(error as IsolaError).code}: ${(error as IsolaError).message}`;
  }
  return 'no error';
}

describe('parseElf and parseNotes', () => {
  it('reads the header, program headers and notes of a well-formed image', () => {
    const image = good();
    const parsed = parseElf(image);
    expect(parsed.entry).toBe(0x100000);
    expect(parsed.programHeaders.map((p) => [p.type, p.physicalAddress, p.fileSize, p.memorySize])).toEqual([
      [PT_LOAD, 0x100000, 64, 0x1000],
      [PT_NOTE, 0, 20 + pvhNote.length, 20 + pvhNote.length],
    ]);
    expect(parseNotes(image, parsed).map((n) => [n.name, n.type, n.desc.length])).toEqual([
      ['GNU', 3, 4],
      ['Xen', 18, 8],
    ]);
    expect(findPvhEntry(image, parsed)).toBe(0x100040);
  });

  it.each([
    ['too short', () => new Uint8Array(10), /EELF_TOO_SHORT: kernel image: 10 bytes/],
    ['not ELF', () => new Uint8Array(64).fill(0x4d), /EELF_MAGIC: .*magic 4d 4d 4d 4d/],
    ['ELF32', () => elf([{ type: PT_LOAD, paddr: 0x100000, data: code }], (v) => v.setUint8(4, 1)), /EELF_CLASS: .*class 1, expected 2/],
    ['big-endian', () => elf([{ type: PT_LOAD, paddr: 0x100000, data: code }], (v) => v.setUint8(5, 2)), /EELF_ENDIANNESS/],
    ['a relocatable object', () => elf([{ type: PT_LOAD, paddr: 0x100000, data: code }], (v) => v.setUint16(16, 1, true)), /EELF_TYPE: .*e_type 1/],
    ['aarch64', () => elf([{ type: PT_LOAD, paddr: 0x100000, data: code }], (v) => v.setUint16(18, 183, true)), /EELF_MACHINE: .*e_machine 183, expected 62/],
    ['no program headers', () => elf([{ type: PT_LOAD, paddr: 0x100000, data: code }], (v) => v.setUint16(56, 0, true)), /EELF_PROGRAM_HEADERS: .*e_phnum 0/],
    ['odd phentsize', () => elf([{ type: PT_LOAD, paddr: 0x100000, data: code }], (v) => v.setUint16(54, 32, true)), /EELF_PROGRAM_HEADERS: .*e_phentsize 32/],
    ['phoff past the end', () => elf([{ type: PT_LOAD, paddr: 0x100000, data: code }], (v) => v.setBigUint64(32, 0x10000n, true)), /EELF_PROGRAM_HEADERS: .*e_phoff 0x10000 run past the end/],
    ['phoff beyond 2^53', () => elf([{ type: PT_LOAD, paddr: 0x100000, data: code }], (v) => v.setBigUint64(32, 0xffff_ffff_ffff_ff00n, true)), /EELF_PROGRAM_HEADERS: .*e_phoff is 0xffffffffffffff00, too large/],
    ['a segment past the end', () => elf([{ type: PT_LOAD, paddr: 0x100000, data: code }], (v) => v.setBigUint64(64 + 32, 0x10000n, true)), /EELF_SEGMENT: .*program header 0 \(PT_LOAD\) covers file bytes \[0x78, 0x10078\)/],
    ['filesz > memsz', () => elf([{ type: PT_LOAD, paddr: 0x100000, data: code }], (v) => v.setBigUint64(64 + 40, 1n, true)), /EELF_SEGMENT: .*p_filesz 0x40 larger than p_memsz 0x1/],
    ['no PT_LOAD', () => elf([{ type: PT_NOTE, paddr: 0, data: pvhNote }]), /EELF_SEGMENT: .*no PT_LOAD/],
  ])('refuses %s', (_, image, expected) => {
    expect(codeOf(() => parseElf(image()))).toMatch(expected);
  });

  it('refuses notes that run past their segment', () => {
    const broken = pvhNote.slice();
    new DataView(broken.buffer).setUint32(4, 400, true);
    const image = elf([{ type: PT_LOAD, paddr: 0x100000, data: code }, { type: PT_NOTE, paddr: 0, data: broken }]);
    expect(codeOf(() => parseNotes(image, parseElf(image)))).toMatch(/EELF_NOTE: .*n_descsz 400\) runs past its segment/);
    const cut = elf([{ type: PT_LOAD, paddr: 0x100000, data: code }, { type: PT_NOTE, paddr: 0, data: pvhNote.subarray(0, 6) }]);
    expect(codeOf(() => parseNotes(cut, parseElf(cut)))).toMatch(/EELF_NOTE: .*n_descsz at offset 4 lies past the end/);
  });

  it('survives random corruption of a good image with IsolaErrors only', () => {
    let seed = 12345;
    const next = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed);
    for (let i = 0; i < 2000; i++) {
      const image = good();
      for (let k = 0; k < 1 + (i % 4); k++) image[next() % 200] = next() & 0xff;
      try {
        planPvhBoot(image, { memmap, isRam });
      } catch (error) {
        expect(error).toBeInstanceOf(IsolaError);
      }
    }
  });
});

describe('planPvhBoot', () => {
  it('loads PT_LOAD at its physical address, zeroes the rest of p_memsz and builds start_info, memmap and cmdline', () => {
    const plan = planPvhBoot(good(), { cmdline: 'console=ttyS0', memmap, isRam });
    expect(plan.entry).toEqual({ mode: 'pvh', rip: 0x100040, startInfo: PVH_START_INFO_ADDRESS });
    expect(plan.writes.map((w) => [w.what, w.address, w.bytes.length])).toEqual([
      ['PT_LOAD 0', 0x100000, 64],
      ['hvm_start_info', PVH_START_INFO_ADDRESS, 56],
      ['PVH memory map', PVH_START_INFO_ADDRESS + 56, 24 * memmap.length],
      ['command line', CMDLINE_ADDRESS, 14],
    ]);
    expect(plan.zeroes).toEqual([{ address: 0x100040, length: 0x1000 - 64 }]);
    const si = new DataView(plan.writes[1]!.bytes.buffer);
    expect(si.getUint32(0, true)).toBe(HVM_START_MAGIC);
    expect(si.getUint32(4, true)).toBe(1);
    expect(si.getUint32(12, true)).toBe(0); // no modules
    expect(si.getBigUint64(24, true)).toBe(BigInt(CMDLINE_ADDRESS));
    expect(si.getBigUint64(32, true)).toBe(0n); // no RSDP yet
    expect(si.getBigUint64(40, true)).toBe(BigInt(PVH_START_INFO_ADDRESS + 56));
    expect(si.getUint32(48, true)).toBe(memmap.length);
    const mm = new DataView(plan.writes[2]!.bytes.buffer);
    memmap.forEach((e, i) => {
      expect(mm.getBigUint64(24 * i, true)).toBe(BigInt(e.address));
      expect(mm.getBigUint64(24 * i + 8, true)).toBe(BigInt(e.size));
      expect(mm.getUint32(24 * i + 16, true)).toBe(e.type);
    });
    expect(Buffer.from(plan.writes[3]!.bytes).toString()).toBe('console=ttyS0\0');
  });

  it('names what is wrong with kernels that cannot be booted', () => {
    const noNote = elf([{ type: PT_LOAD, paddr: 0x100000, data: code }]);
    expect(codeOf(() => planPvhBoot(noNote, { memmap, isRam, name: 'vmlinux' }))).toMatch(/EPVH_NO_ENTRY: vmlinux: no XEN_ELFNOTE_PHYS32_ENTRY .*CONFIG_PVH/);
    const oddNote = elf([{ type: PT_LOAD, paddr: 0x100000, data: code }, { type: PT_NOTE, paddr: 0, data: note('Xen', 18, [1, 2]) }]);
    expect(codeOf(() => planPvhBoot(oddNote, { memmap, isRam }))).toMatch(/EELF_NOTE: .*2-byte value/);
    const huge = elf([{ type: PT_LOAD, paddr: 0x100000, data: code, memsz: 64 << 20 }, { type: PT_NOTE, paddr: 0, data: pvhNote }]);
    expect(codeOf(() => planPvhBoot(huge, { memmap, isRam }))).toMatch(/EBOOT_TOO_LARGE: .*PT_LOAD 0 at \[0x100000, 0x4100000\) does not fit/);
    const low = elf([{ type: PT_LOAD, paddr: 0x7000, data: code }, { type: PT_NOTE, paddr: 0, data: pvhNote }]);
    expect(codeOf(() => planPvhBoot(low, { memmap, isRam }))).toMatch(/EBOOT_OVERLAP: .*0x7000 lies below 1 MiB/);
    expect(codeOf(() => planPvhBoot(good(), { memmap, isRam, cmdline: 'x'.repeat(70000) }))).toMatch(/EVM_CONFIG: .*command line is 70001 bytes/);
    const bz = new Uint8Array(0x300);
    bz.set([0x48, 0x64], 0x202);
    expect(codeOf(() => planPvhBoot(bz, { memmap, isRam }))).toMatch(/EELF_MAGIC: .*looks like a bzImage/);
  });
});
