// Linux's 64-bit boot protocol against Documentation/arch/x86/boot.rst and zero-page.rst, field by
// field: the setup header parsed from synthetic bzImages (and every way one can be malformed), the
// boot_params isola writes (copied header, loader fields, command line, initrd, RSDP, e820 table),
// and where the kernel and initrd go.
import { describe, expect, it } from 'vitest';
import { IsolaError } from '@isola/errors';
import { e820Map } from '../machine/e820.js';
import { BOOT_PAGE_TABLES_ADDRESS, CMDLINE_ADDRESS, ZERO_PAGE_ADDRESS } from '../machine/layout.js';
import { planRegions } from '../machine/memory.js';
import { parseBzImage, SETUP_HEADER } from './bzimage.js';
import { planLinuxBoot, placeInitrd } from './linux.js';
import { encodeZeroPage, ZERO_PAGE } from './zero-page.js';

interface BzOptions {
  version?: number;
  xloadflags?: number;
  loadflags?: number;
  setupSects?: number;
  relocatable?: boolean;
  prefAddress?: number;
  initSize?: number;
  kernelBytes?: number;
  cmdlineSize?: number;
  initrdAddrMax?: number;
}

/** A bzImage with a 2.15 header, as `make bzImage` lays it out, and a protected-mode kernel of kernelBytes. */
function bzImage(o: BzOptions = {}): Uint8Array {
  const setupSects = o.setupSects ?? 4;
  const kernelBytes = o.kernelBytes ?? 0x1000;
  const kernelOffset = ((setupSects || 4) + 1) * 512;
  const out = new Uint8Array(kernelOffset + kernelBytes);
  const v = new DataView(out.buffer);
  out[SETUP_HEADER.SETUP_SECTS] = setupSects;
  v.setUint32(SETUP_HEADER.SYSSIZE, kernelBytes / 16, true);
  v.setUint16(SETUP_HEADER.BOOT_FLAG, 0xaa55, true);
  out[0x200] = 0xeb; // jmp short
  out[0x201] = 0x6a; // header ends at 0x26c
  v.setUint32(SETUP_HEADER.HEADER, 0x53726448, true);
  v.setUint16(SETUP_HEADER.VERSION, o.version ?? 0x020f, true);
  out[SETUP_HEADER.LOADFLAGS] = o.loadflags ?? 0x01;
  v.setUint32(SETUP_HEADER.INITRD_ADDR_MAX, o.initrdAddrMax ?? 0x7fff_ffff, true);
  v.setUint32(SETUP_HEADER.KERNEL_ALIGNMENT, 0x20_0000, true);
  out[SETUP_HEADER.RELOCATABLE_KERNEL] = o.relocatable === false ? 0 : 1;
  v.setUint16(SETUP_HEADER.XLOADFLAGS, o.xloadflags ?? 0x7f, true);
  v.setUint32(SETUP_HEADER.CMDLINE_SIZE, o.cmdlineSize ?? 0x7ff, true);
  v.setBigUint64(SETUP_HEADER.PREF_ADDRESS, BigInt(o.prefAddress ?? 0x100_0000), true);
  v.setUint32(SETUP_HEADER.INIT_SIZE, o.initSize ?? 0x40_0000, true);
  out.fill(0xcc, kernelOffset);
  return out;
}

const regions = planRegions(64 << 20);
const memmap = e820Map(regions);
const isRam = (address: number, size: number) => address + size <= 64 << 20;

function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(IsolaError);
    return `${(error as IsolaError).code}: ${(error as IsolaError).message}`;
  }
  return 'no error';
}

describe('parseBzImage', () => {
  it('reads the setup header fields the 64-bit boot path uses', () => {
    const h = parseBzImage(bzImage({ setupSects: 27 }));
    expect(h).toMatchObject({ version: 0x020f, setupSects: 27, loadflags: 1, xloadflags: 0x7f, initrdAddrMax: 0x7fffffff, kernelAlignment: 0x200000, relocatable: true, cmdlineSize: 0x7ff, prefAddress: 0x1000000, initSize: 0x400000, kernelOffset: 28 * 512 });
    expect(h.raw.length).toBe(0x26c - 0x1f1);
    expect(h.kernel.length).toBe(0x1000);
    // setup_sects 0 means 4 (boot.rst: "if this field is 0, the real value is 4").
    expect(parseBzImage(bzImage({ setupSects: 0 })).kernelOffset).toBe(5 * 512);
  });

  it.each([
    ['a short file', () => new Uint8Array(0x100), /EBZIMAGE_TOO_SHORT: x: 256 bytes/],
    ['no boot_flag', () => { const b = bzImage(); b[0x1fe] = 0; return b; }, /EBZIMAGE_MAGIC: x: not a bzImage \(boot_flag 0xaa00/],
    ['no HdrS', () => { const b = bzImage(); b[0x202] = 0x41; return b; }, /EBZIMAGE_MAGIC: .*header 0x53726441/],
    ['protocol 2.11', () => bzImage({ version: 0x020b }), /EBZIMAGE_PROTOCOL: x: boot protocol 2\.11 is too old: the 64-bit entry needs 2\.12/],
    ['no XLF_KERNEL_64', () => bzImage({ xloadflags: 0x2 }), /EBZIMAGE_NO_64BIT_ENTRY: x: xloadflags 0x2 lacks XLF_KERNEL_64/],
    ['a zImage', () => bzImage({ loadflags: 0 }), /EBZIMAGE_PROTOCOL: .*lacks LOADED_HIGH/],
    ['a cut-off kernel', () => bzImage().subarray(0, 5 * 512 + 0x100), /EBZIMAGE_TRUNCATED: x: the protected-mode kernel .* needs 6656 bytes, the file has 2816/],
  ])('refuses %s', (_, image, expected) => {
    expect(failure(() => parseBzImage(image(), 'x'))).toMatch(expected);
  });

  it('survives random corruption with IsolaErrors only', () => {
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed);
    for (let i = 0; i < 2000; i++) {
      const image = bzImage();
      for (let k = 0; k < 1 + (i % 4); k++) image[0x1f1 + (next() % 0x80)] = next() & 0xff;
      try {
        planLinuxBoot(image, { memmap, isRam });
      } catch (error) {
        expect(error).toBeInstanceOf(IsolaError);
      }
    }
  });
});

describe('encodeZeroPage', () => {
  it('copies the setup header and fills the loader fields, initrd, command line, RSDP and e820 table', () => {
    const header = parseBzImage(bzImage()).raw;
    const e820 = [
      { address: 0, size: 0x9fc00, type: 1 },
      { address: 0x100000, size: 0x3f00000, type: 1 },
      { address: 0x1_0000_0000, size: 0x4000_0000, type: 1 },
    ];
    const zp = encodeZeroPage({ setupHeader: header, e820, cmdlineAddress: 0x20000, cmdlineSize: 0xffff, initrd: { address: 0x3000000, size: 0x123456 }, rsdpAddress: 0xe0000 });
    const v = new DataView(zp.buffer);
    expect(zp.length).toBe(4096);
    // The header, except the fields a loader writes, is the image's.
    expect(v.getUint16(0x1fe, true)).toBe(0xaa55);
    expect(v.getUint32(0x202, true)).toBe(0x53726448);
    expect(v.getUint16(0x206, true)).toBe(0x020f);
    expect(v.getUint16(0x236, true)).toBe(0x7f);
    expect(v.getUint32(0x238, true)).toBe(0x7ff); // cmdline_size is the kernel's, left alone
    expect(zp[0x210]).toBe(0xff); // type_of_loader: undefined
    expect(zp[0x211]).toBe(0x01); // loadflags: LOADED_HIGH, no CAN_USE_HEAP
    expect(v.getUint32(0x218, true)).toBe(0x3000000); // ramdisk_image
    expect(v.getUint32(0x21c, true)).toBe(0x123456); // ramdisk_size
    expect(v.getUint32(0x228, true)).toBe(0x20000); // cmd_line_ptr
    expect(v.getUint32(ZERO_PAGE.EXT_RAMDISK_IMAGE, true)).toBe(0);
    expect(v.getUint32(ZERO_PAGE.EXT_RAMDISK_SIZE, true)).toBe(0);
    expect(v.getUint32(ZERO_PAGE.EXT_CMD_LINE_PTR, true)).toBe(0);
    expect(v.getBigUint64(0x070, true)).toBe(0xe0000n); // acpi_rsdp_addr
    expect(zp[0x1e8]).toBe(3); // e820_entries
    expect(zp[0x1ef]).toBe(0); // sentinel: untouched
    e820.forEach((e, i) => {
      const at = 0x2d0 + 20 * i;
      expect([v.getBigUint64(at, true), v.getBigUint64(at + 8, true), v.getUint32(at + 16, true)]).toEqual([BigInt(e.address), BigInt(e.size), e.type]);
    });
    expect(zp.subarray(0x2d0 + 60, 0x2d0 + 80).every((b) => b === 0)).toBe(true);
  });

  it('makes a header up for an ELF vmlinux: magic numbers, protocol 2.15, LOADED_HIGH, cmdline_size', () => {
    const zp = encodeZeroPage({ e820: [], cmdlineAddress: 0x1_2000_0000, cmdlineSize: 100 });
    const v = new DataView(zp.buffer);
    expect(v.getUint16(0x1fe, true)).toBe(0xaa55);
    expect(v.getUint32(0x202, true)).toBe(0x53726448);
    expect(v.getUint16(0x206, true)).toBe(0x020f);
    expect(zp[0x211]).toBe(1);
    expect(v.getUint32(0x238, true)).toBe(100);
    expect(v.getUint32(0x228, true)).toBe(0x2000_0000); // the low half, and the high half in ext_cmd_line_ptr
    expect(v.getUint32(ZERO_PAGE.EXT_CMD_LINE_PTR, true)).toBe(1);
    expect(v.getBigUint64(0x070, true)).toBe(0n);
  });

  it('refuses more than 128 e820 entries', () => {
    const many = Array.from({ length: 129 }, (_, i) => ({ address: i * 0x2000, size: 0x1000, type: 1 }));
    expect(failure(() => encodeZeroPage({ e820: many, cmdlineAddress: 0, cmdlineSize: 0 }))).toMatch(/129 e820 entries: boot_params holds 128/);
  });
});

describe('planLinuxBoot', () => {
  it('loads a relocatable bzImage at pref_address, enters at +0x200 with boot_params in RSI, places the initrd high', () => {
    const initrd = new Uint8Array(0x5000).fill(7);
    const plan = planLinuxBoot(bzImage(), { memmap, isRam, cmdline: 'console=ttyS0', initrd, rsdpAddress: 0xe0000 });
    expect(plan.entry).toEqual({ mode: 'linux64', rip: 0x1000200, bootParams: ZERO_PAGE_ADDRESS, cr3: BOOT_PAGE_TABLES_ADDRESS, stack: expect.any(Number) });
    expect(plan.writes.map((w) => [w.what, w.address, w.bytes.length])).toEqual([
      ['protected-mode kernel', 0x1000000, 0x1000],
      ['initrd', (64 << 20) - 0x5000, 0x5000],
      ['boot_params', ZERO_PAGE_ADDRESS, 4096],
      ['command line', CMDLINE_ADDRESS, 14],
    ]);
    const zp = new DataView(plan.writes[2]!.bytes.buffer);
    expect(zp.getUint32(0x218, true)).toBe((64 << 20) - 0x5000);
    expect(zp.getUint32(0x21c, true)).toBe(0x5000);
    expect(zp.getUint32(0x228, true)).toBe(CMDLINE_ADDRESS);
    expect(zp.getUint8(0x1e8)).toBe(memmap.length);
  });

  it('loads a non-relocatable bzImage at 1 MiB, and keeps the initrd below initrd_addr_max', () => {
    const plan = planLinuxBoot(bzImage({ relocatable: false, initrdAddrMax: 0x1ff_ffff }), { memmap, isRam, initrd: new Uint8Array(0x1800) });
    expect(plan.entry.rip).toBe(0x100200);
    expect(plan.writes[1]).toMatchObject({ what: 'initrd', address: 0x200_0000 - 0x2000 });
  });

  it('names what does not fit', () => {
    expect(failure(() => planLinuxBoot(bzImage({ initSize: 0x400_0000 }), { memmap, isRam }))).toMatch(/EBOOT_TOO_LARGE: .*needs \[0x1000000, 0x5000000\) of RAM \(init_size 0x4000000\)/);
    expect(failure(() => planLinuxBoot(bzImage({ cmdlineSize: 10 }), { memmap, isRam, cmdline: 'console=ttyS0' }))).toMatch(/EVM_CONFIG: the kernel command line is 13 bytes; .* at most 10 \(cmdline_size\)/);
    expect(failure(() => planLinuxBoot(bzImage(), { memmap, isRam, initrd: new Uint8Array(0) }))).toMatch(/EBOOT_INITRD: initrd is empty/);
    expect(failure(() => planLinuxBoot(bzImage(), { memmap, isRam, initrd: new Uint8Array(60 << 20), initrdName: 'big.img' }))).toMatch(/EBOOT_INITRD: big\.img of 62914560 bytes does not fit between the kernel's end 0x1400000/);
    expect(failure(() => planLinuxBoot(new Uint8Array(4096).fill(0x90), { memmap, isRam }))).toMatch(/EELF_MAGIC: .*neither an ELF vmlinux nor a bzImage \(magic 90 90 90 90/);
    expect(failure(() => placeInitrd(0x1000, 0x5000, 0x5800))).toMatch(/EBOOT_INITRD/);
  });
});
