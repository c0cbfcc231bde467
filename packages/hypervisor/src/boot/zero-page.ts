// struct boot_params, the "zero page" of Linux's 64-bit boot protocol (Documentation/arch/x86/
// zero-page.rst and boot.rst): the setup header (copied from a bzImage, or made up for an ELF
// vmlinux), the e820 map, the command line, initrd and RSDP pointers. Pure: bytes out.
import { hypervisorError } from '../errors.js';
import type { E820Entry } from '../machine/e820.js';
import { CAN_USE_HEAP, LOADED_HIGH, SETUP_HEADER, SETUP_MAGIC, BOOT_FLAG_MAGIC } from './bzimage.js';

export const ZERO_PAGE_SIZE = 4096;
export const ZERO_PAGE = {
  ACPI_RSDP_ADDR: 0x070,
  EXT_RAMDISK_IMAGE: 0x0c0,
  EXT_RAMDISK_SIZE: 0x0c4,
  EXT_CMD_LINE_PTR: 0x0c8,
  E820_ENTRIES: 0x1e8,
  SENTINEL: 0x1ef,
  E820_TABLE: 0x2d0,
} as const;
export const E820_MAX_ENTRIES = 128;
/** "Undefined" boot loader: isola has no registered ID. */
export const LOADER_TYPE_UNDEFINED = 0xff;
/** The protocol version isola writes when it makes a header up (ELF vmlinux): 2.15. */
export const SYNTHETIC_PROTOCOL = 0x020f;

export interface ZeroPageOptions {
  /** The bzImage's setup header bytes from 0x1f1, or absent for an ELF vmlinux. */
  setupHeader?: Uint8Array;
  e820: readonly E820Entry[];
  cmdlineAddress: number;
  /** Written only into a made-up header: a bzImage's cmdline_size is the kernel's limit, read-only. */
  cmdlineSize: number;
  initrd?: { address: number; size: number };
  rsdpAddress?: number;
}

export function encodeZeroPage(options: ZeroPageOptions): Uint8Array {
  const out = new Uint8Array(ZERO_PAGE_SIZE);
  const v = new DataView(out.buffer);
  if (options.e820.length > E820_MAX_ENTRIES) {
    throw hypervisorError('EVM_CONFIG', `${options.e820.length} e820 entries: boot_params holds ${E820_MAX_ENTRIES}`, {});
  }
  if (options.setupHeader) {
    out.set(options.setupHeader.subarray(0, ZERO_PAGE_SIZE - SETUP_HEADER.SETUP_SECTS), SETUP_HEADER.SETUP_SECTS);
  } else {
    // What a bzImage would have said: the magic numbers and a version new enough for every field below.
    v.setUint16(SETUP_HEADER.BOOT_FLAG, BOOT_FLAG_MAGIC, true);
    v.setUint32(SETUP_HEADER.HEADER, SETUP_MAGIC, true);
    v.setUint16(SETUP_HEADER.VERSION, SYNTHETIC_PROTOCOL, true);
    out[SETUP_HEADER.LOADFLAGS] = LOADED_HIGH;
    v.setUint32(SETUP_HEADER.CMDLINE_SIZE, options.cmdlineSize, true);
  }
  out[SETUP_HEADER.TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
  // No real-mode code runs, so no heap; KEEP_SEGMENTS and QUIET stay as the kernel shipped them.
  out[SETUP_HEADER.LOADFLAGS] = (out[SETUP_HEADER.LOADFLAGS]! | LOADED_HIGH) & ~CAN_USE_HEAP;
  v.setUint32(SETUP_HEADER.CMD_LINE_PTR, options.cmdlineAddress, true);
  v.setUint32(ZERO_PAGE.EXT_CMD_LINE_PTR, Math.floor(options.cmdlineAddress / 2 ** 32), true);
  const initrd = options.initrd ?? { address: 0, size: 0 };
  v.setUint32(SETUP_HEADER.RAMDISK_IMAGE, initrd.address >>> 0, true);
  v.setUint32(SETUP_HEADER.RAMDISK_SIZE, initrd.size >>> 0, true);
  v.setUint32(ZERO_PAGE.EXT_RAMDISK_IMAGE, Math.floor(initrd.address / 2 ** 32), true);
  v.setUint32(ZERO_PAGE.EXT_RAMDISK_SIZE, Math.floor(initrd.size / 2 ** 32), true);
  v.setBigUint64(ZERO_PAGE.ACPI_RSDP_ADDR, BigInt(options.rsdpAddress ?? 0), true);
  out[ZERO_PAGE.E820_ENTRIES] = options.e820.length;
  options.e820.forEach((e, i) => {
    const at = ZERO_PAGE.E820_TABLE + 20 * i;
    v.setBigUint64(at, BigInt(e.address), true);
    v.setBigUint64(at + 8, BigInt(e.size), true);
    v.setUint32(at + 16, e.type, true);
  });
  return out;
}
