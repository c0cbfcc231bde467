// Where things sit in guest-physical memory. One table, so a reader can check that nothing overlaps:
// the low 640 KiB hold the boot structures, kernels load at 1 MiB, devices live in the hole below 4 GiB.

/** Guest RAM stops here and resumes at 4 GiB: the gap is for device MMIO, the TSS and the identity map. */
export const MMIO_HOLE_START = 0xc000_0000;
export const MMIO_HOLE_END = 0x1_0000_0000;

/** Three pages KVM needs for real-mode emulation on Intel, and its identity-map page: both in the hole. */
export const TSS_ADDRESS = 0xfffb_d000;
export const IDENTITY_MAP_ADDRESS = 0xfffb_c000;

/** Virtio-mmio devices, 4 KiB apart, from here up. */
export const VIRTIO_MMIO_BASE = 0xd000_0000;

/** The GDT the boot paths describe (the vCPU's hidden segment state is set directly, but a guest may reload it). */
export const BOOT_GDT_ADDRESS = 0x500;
export const BOOT_IDT_ADDRESS = 0x540;
/** hvm_start_info, followed by its memory map. */
export const PVH_START_INFO_ADDRESS = 0x6000;
/** Flat test binaries load and start here, in real mode with CS = 0. */
export const FLAT_LOAD_ADDRESS = 0x8000;
/** The kernel command line (NUL-terminated) gets 64 KiB. */
export const CMDLINE_ADDRESS = 0x2_0000;
export const CMDLINE_MAX = 0x1_0000;
/** The MP floating pointer and table (for guests that look for one), in the EBDA's first KiB. */
export const MPTABLE_ADDRESS = 0x9_fc00;
/** ACPI tables: the RSDP first (where a BIOS-area scan finds it), then the others, below 1 MiB. */
export const ACPI_TABLES_ADDRESS = 0xe_0000;
export const ACPI_TABLES_END = 0x10_0000;
/** Linux's 64-bit boot protocol: boot_params (the zero page) here, its page tables and GDT next to it. */
export const ZERO_PAGE_ADDRESS = 0x7000;
/** The Linux boot path's identity-mapped page tables: PML4, PDPT, then four page directories. */
export const BOOT_PAGE_TABLES_ADDRESS = 0x9000;
/** Where the stack of the 64-bit Linux entry starts (grows down, below the page tables). */
export const BOOT_STACK_ADDRESS = 0x8ff0;
/** The extended BIOS data area starts here in PC memory maps: RAM below it is free for the guest. */
export const EBDA_START = 0x9_fc00;
/** The first byte above the legacy VGA/BIOS area. */
export const HIGH_MEMORY_START = 0x10_0000;

/** The smallest machine: room for the boot structures and a kernel at 1 MiB. */
export const MIN_MEMORY = 2 << 20;
