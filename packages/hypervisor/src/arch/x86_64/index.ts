// x86-64 specifics, behind this one re-export.
export { encodeDescriptor, encodeGdt, segmentOf, PVH_GDT, LINUX64_GDT, type Descriptor } from './gdt.js';
export { linux64Entry, pvhEntry, realModeEntry, type EntryState } from './modes.js';
export { identityMap4G, PAGE_TABLES_SIZE } from './paging.js';
export { vcpuCpuid, type CpuFeature, type CpuidOptions } from './cpuid.js';
