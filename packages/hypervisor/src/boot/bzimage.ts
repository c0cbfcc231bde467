// The setup header of a bzImage (Documentation/arch/x86/boot.rst, "The Real-Mode Kernel Header"):
// parsed and checked for what isola's 64-bit boot path needs. Pure; every problem has its own code
// and names the field: not a bzImage (EBZIMAGE_MAGIC), protocol older than 2.12 (EBZIMAGE_PROTOCOL),
// no 64-bit entry (EBZIMAGE_NO_64BIT_ENTRY), the protected-mode kernel cut short (EBZIMAGE_TRUNCATED).
import { hex, hypervisorError } from '../errors.js';
import { LeReader } from './endian.js';

/** Offsets into the image (and into boot_params, which embeds the header at the same place). */
export const SETUP_HEADER = {
  SETUP_SECTS: 0x1f1,
  SYSSIZE: 0x1f4,
  BOOT_FLAG: 0x1fe,
  JUMP: 0x200,
  HEADER: 0x202,
  VERSION: 0x206,
  TYPE_OF_LOADER: 0x210,
  LOADFLAGS: 0x211,
  CODE32_START: 0x214,
  RAMDISK_IMAGE: 0x218,
  RAMDISK_SIZE: 0x21c,
  HEAP_END_PTR: 0x224,
  CMD_LINE_PTR: 0x228,
  INITRD_ADDR_MAX: 0x22c,
  KERNEL_ALIGNMENT: 0x230,
  RELOCATABLE_KERNEL: 0x234,
  XLOADFLAGS: 0x236,
  CMDLINE_SIZE: 0x238,
  PREF_ADDRESS: 0x258,
  INIT_SIZE: 0x260,
} as const;

export const BOOT_FLAG_MAGIC = 0xaa55;
/** "HdrS" */
export const SETUP_MAGIC = 0x5372_6448;
/** xloadflags exist from 2.12 on; isola needs XLF_KERNEL_64 from them. */
export const MIN_PROTOCOL = 0x020c;
export const XLF_KERNEL_64 = 1 << 0;
export const XLF_CAN_BE_LOADED_ABOVE_4G = 1 << 1;
export const LOADED_HIGH = 1 << 0;
export const CAN_USE_HEAP = 1 << 7;
/** The 64-bit entry sits this far into the protected-mode kernel. */
export const STARTUP_64_OFFSET = 0x200;

export interface SetupHeader {
  /** The raw header bytes, [0x1f1, 0x202 + image[0x201]), to copy into boot_params. */
  raw: Uint8Array;
  version: number;
  setupSects: number;
  loadflags: number;
  xloadflags: number;
  initrdAddrMax: number;
  kernelAlignment: number;
  relocatable: boolean;
  cmdlineSize: number;
  prefAddress: number;
  initSize: number;
  /** Where the protected-mode kernel starts in the file, and its bytes. */
  kernelOffset: number;
  kernel: Uint8Array;
}

export function looksLikeBzImage(bytes: Uint8Array): boolean {
  return bytes.length >= 0x206 && bytes[0x202] === 0x48 && bytes[0x203] === 0x64 && bytes[0x204] === 0x72 && bytes[0x205] === 0x53;
}

export function parseBzImage(bytes: Uint8Array, name = 'kernel image'): SetupHeader {
  if (bytes.length < 0x270) {
    throw hypervisorError('EBZIMAGE_TOO_SHORT', `${name}: ${bytes.length} bytes, too short for a bzImage setup header (ends at 0x26c)`, { length: bytes.length });
  }
  const r = new LeReader(bytes, name, 'EBZIMAGE_TRUNCATED');
  const bootFlag = r.u16(SETUP_HEADER.BOOT_FLAG, 'boot_flag');
  const magic = r.u32(SETUP_HEADER.HEADER, 'header');
  if (bootFlag !== BOOT_FLAG_MAGIC || magic !== SETUP_MAGIC) {
    throw hypervisorError('EBZIMAGE_MAGIC', `${name}: not a bzImage (boot_flag ${hex(bootFlag, 4)}, header ${hex(magic, 8)}; expected 0xaa55 and "HdrS")`, { bootFlag, magic });
  }
  const version = r.u16(SETUP_HEADER.VERSION, 'version');
  if (version < MIN_PROTOCOL) {
    throw hypervisorError('EBZIMAGE_PROTOCOL', `${name}: boot protocol ${version >> 8}.${String(version & 0xff).padStart(2, '0')} is too old: the 64-bit entry needs 2.12 or newer`, { version });
  }
  const xloadflags = r.u16(SETUP_HEADER.XLOADFLAGS, 'xloadflags');
  if (!(xloadflags & XLF_KERNEL_64)) {
    throw hypervisorError('EBZIMAGE_NO_64BIT_ENTRY', `${name}: xloadflags ${hex(xloadflags)} lacks XLF_KERNEL_64: the kernel has no 64-bit entry point (a 32-bit kernel?)`, { xloadflags });
  }
  const loadflags = r.u8(SETUP_HEADER.LOADFLAGS, 'loadflags');
  if (!(loadflags & LOADED_HIGH)) {
    throw hypervisorError('EBZIMAGE_PROTOCOL', `${name}: loadflags ${hex(loadflags)} lacks LOADED_HIGH: a zImage, which loads at 0x10000, is not supported`, { loadflags });
  }
  const headerEnd = 0x202 + r.u8(0x201, 'jump offset');
  const setupSects = r.u8(SETUP_HEADER.SETUP_SECTS, 'setup_sects') || 4;
  const kernelOffset = (setupSects + 1) * 512;
  const syssize = r.u32(SETUP_HEADER.SYSSIZE, 'syssize');
  const kernelEnd = kernelOffset + syssize * 16;
  if (kernelEnd > bytes.length || kernelOffset + STARTUP_64_OFFSET >= bytes.length) {
    throw hypervisorError('EBZIMAGE_TRUNCATED', `${name}: the protected-mode kernel (setup_sects ${setupSects}, syssize ${hex(syssize)}) needs ${kernelEnd} bytes, the file has ${bytes.length}`, {
      kernelOffset,
      kernelEnd,
      length: bytes.length,
    });
  }
  const kernelAlignment = r.u32(SETUP_HEADER.KERNEL_ALIGNMENT, 'kernel_alignment');
  return {
    raw: bytes.slice(SETUP_HEADER.SETUP_SECTS, headerEnd),
    version,
    setupSects,
    loadflags,
    xloadflags,
    initrdAddrMax: r.u32(SETUP_HEADER.INITRD_ADDR_MAX, 'initrd_addr_max'),
    kernelAlignment,
    relocatable: r.u8(SETUP_HEADER.RELOCATABLE_KERNEL, 'relocatable_kernel') !== 0,
    cmdlineSize: r.u32(SETUP_HEADER.CMDLINE_SIZE, 'cmdline_size'),
    prefAddress: r.u64(SETUP_HEADER.PREF_ADDRESS, 'pref_address'),
    initSize: r.u32(SETUP_HEADER.INIT_SIZE, 'init_size'),
    kernelOffset,
    // Everything after the setup sectors: syssize undercounts on some kernels, and the tail is harmless.
    kernel: bytes.subarray(kernelOffset),
  };
}
