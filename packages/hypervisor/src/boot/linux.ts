// Linux's 64-bit boot protocol (Documentation/arch/x86/boot.rst): an ELF vmlinux (PT_LOADs at their
// physical addresses, entered at e_entry) or a bzImage (the protected-mode kernel at pref_address,
// or 1 MiB when not relocatable, entered at +0x200), both with boot_params at ZERO_PAGE_ADDRESS in
// RSI, the command line, an initrd below initrd_addr_max, and the RSDP address. planLinuxBoot is pure.
import { hex, hypervisorError } from '../errors.js';
import type { E820Entry } from '../machine/e820.js';
import { BOOT_PAGE_TABLES_ADDRESS, BOOT_STACK_ADDRESS, CMDLINE_ADDRESS, HIGH_MEMORY_START, MMIO_HOLE_START, ZERO_PAGE_ADDRESS } from '../machine/layout.js';
import { looksLikeBzImage, parseBzImage, STARTUP_64_OFFSET } from './bzimage.js';
import { parseElf } from './elf.js';
import type { BootPlan } from './plan.js';
import { encodeCmdline } from './pvh.js';
import { planSegments } from './segments.js';
import { encodeZeroPage } from './zero-page.js';

const PAGE = 4096;
/** An ELF vmlinux has no initrd_addr_max: use the protocol's default for 2.03+ kernels. */
const DEFAULT_INITRD_ADDR_MAX = 0x37ff_ffff;
/** The limit isola's command line area has (and what a made-up header says). */
const ELF_CMDLINE_SIZE = 0xffff;

export interface LinuxOptions {
  cmdline?: string;
  memmap: readonly E820Entry[];
  /** Whether [address, address + size) is guest RAM. */
  isRam(address: number, size: number): boolean;
  initrd?: Uint8Array;
  rsdpAddress?: number;
  name?: string;
  initrdName?: string;
}

export type LinuxImageKind = 'elf' | 'bzimage';

export function linuxImageKind(image: Uint8Array): LinuxImageKind | undefined {
  if (image.length >= 4 && image[0] === 0x7f && image[1] === 0x45 && image[2] === 0x4c && image[3] === 0x46) return 'elf';
  return looksLikeBzImage(image) ? 'bzimage' : undefined;
}

/** The highest RAM address below 4 GiB that [.., top) reaches contiguously from 1 MiB. */
function lowRamTop(memmap: readonly E820Entry[]): number {
  let top = 0;
  for (const e of memmap) if (e.type === 1 && e.address <= HIGH_MEMORY_START && e.address + e.size > top) top = e.address + e.size;
  return Math.min(top, MMIO_HOLE_START);
}

export function planLinuxBoot(image: Uint8Array, options: LinuxOptions): BootPlan {
  const name = options.name ?? 'kernel image';
  const kind = linuxImageKind(image);
  const plan: BootPlan = { writes: [], zeroes: [], entry: { mode: 'linux64', rip: 0, bootParams: ZERO_PAGE_ADDRESS, cr3: BOOT_PAGE_TABLES_ADDRESS, stack: BOOT_STACK_ADDRESS } };
  let kernelEnd: number;
  let initrdAddrMax = DEFAULT_INITRD_ADDR_MAX;
  let cmdlineSize = ELF_CMDLINE_SIZE;
  let setupHeader: Uint8Array | undefined;
  if (kind === 'bzimage') {
    const header = parseBzImage(image, name);
    const load = header.relocatable ? header.prefAddress : HIGH_MEMORY_START;
    if (header.relocatable && header.kernelAlignment && load % header.kernelAlignment !== 0) {
      throw hypervisorError('EBZIMAGE_PROTOCOL', `${name}: pref_address ${hex(load)} is not a multiple of kernel_alignment ${hex(header.kernelAlignment)}`, { load });
    }
    const span = Math.max(header.initSize, header.kernel.length);
    if (!options.isRam(load, span)) {
      throw hypervisorError('EBOOT_TOO_LARGE', `${name}: the kernel needs [${hex(load)}, ${hex(load + span)}) of RAM (init_size ${hex(header.initSize)}): give the VM more memory`, {
        load,
        span,
      });
    }
    plan.writes.push({ address: load, bytes: header.kernel, what: 'protected-mode kernel' });
    plan.entry = { ...plan.entry, rip: load + STARTUP_64_OFFSET } as BootPlan['entry'];
    kernelEnd = load + span;
    initrdAddrMax = header.initrdAddrMax;
    cmdlineSize = header.cmdlineSize;
    setupHeader = header.raw;
  } else if (kind === 'elf') {
    const elf = parseElf(image, name);
    kernelEnd = planSegments(image, elf, plan, options.isRam, name);
    plan.entry = { ...plan.entry, rip: elf.entry } as BootPlan['entry'];
    if (!options.isRam(elf.entry, 1)) throw hypervisorError('EELF_SEGMENT', `${name}: e_entry ${hex(elf.entry)} is not a physical address in guest RAM`, { entry: elf.entry });
  } else {
    const magic = [...image.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    throw hypervisorError('EELF_MAGIC', `${name}: neither an ELF vmlinux nor a bzImage (magic ${magic}, no "HdrS" at 0x202)`, { magic });
  }

  const cmdline = encodeCmdline(options.cmdline ?? '');
  if (cmdline.length - 1 > cmdlineSize) {
    throw hypervisorError('EVM_CONFIG', `the kernel command line is ${cmdline.length - 1} bytes; ${name} accepts at most ${cmdlineSize} (cmdline_size)`, { length: cmdline.length - 1, cmdlineSize });
  }
  let initrd: { address: number; size: number } | undefined;
  if (options.initrd) {
    initrd = placeInitrd(options.initrd.length, kernelEnd, Math.min(initrdAddrMax + 1, lowRamTop(options.memmap)), options.initrdName ?? 'initrd');
    plan.writes.push({ address: initrd.address, bytes: options.initrd, what: 'initrd' });
  }
  plan.writes.push({
    address: ZERO_PAGE_ADDRESS,
    bytes: encodeZeroPage({ setupHeader, e820: options.memmap, cmdlineAddress: CMDLINE_ADDRESS, cmdlineSize: ELF_CMDLINE_SIZE, initrd, rsdpAddress: options.rsdpAddress }),
    what: 'boot_params',
  });
  plan.writes.push({ address: CMDLINE_ADDRESS, bytes: cmdline, what: 'command line' });
  return plan;
}

/** The initrd as high as it may go (page-aligned, below `limit`), as boot loaders place it; never over the kernel. */
export function placeInitrd(size: number, kernelEnd: number, limit: number, name = 'initrd'): { address: number; size: number } {
  if (size === 0) throw hypervisorError('EBOOT_INITRD', `${name} is empty`, {});
  const address = Math.floor((limit - size) / PAGE) * PAGE;
  if (address < kernelEnd) {
    throw hypervisorError('EBOOT_INITRD', `${name} of ${size} bytes does not fit between the kernel's end ${hex(kernelEnd)} and ${hex(limit)} (initrd_addr_max or the end of low RAM): give the VM more memory`, {
      size,
      kernelEnd,
      limit,
    });
  }
  return { address, size };
}
