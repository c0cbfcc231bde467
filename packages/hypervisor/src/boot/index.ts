export { parseElf, parseNotes, PT_LOAD, PT_NOTE, type ElfImage, type ElfNote, type ProgramHeader } from './elf.js';
export { planPvhBoot, findPvhEntry, encodeStartInfo, encodeMemmap, encodeCmdline, HVM_START_MAGIC, XEN_ELFNOTE_PHYS32_ENTRY, type PvhOptions, type StartInfo } from './pvh.js';
export { planFlatBoot, type FlatOptions } from './flat.js';
export { applyBootPlan, type BootPlan, type BootEntry } from './plan.js';
export { planLinuxBoot, placeInitrd, linuxImageKind, type LinuxOptions, type LinuxImageKind } from './linux.js';
export { parseBzImage, looksLikeBzImage, SETUP_HEADER, XLF_KERNEL_64, type SetupHeader } from './bzimage.js';
export { encodeZeroPage, ZERO_PAGE, ZERO_PAGE_SIZE, type ZeroPageOptions } from './zero-page.js';
