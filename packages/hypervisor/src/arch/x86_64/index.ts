// x86-64 specifics, behind this one re-export.
export { encodeDescriptor, encodeGdt, segmentOf, PVH_GDT, type Descriptor } from './gdt.js';
export { pvhEntry, realModeEntry, type EntryState } from './modes.js';
export { vcpuCpuid, type CpuFeature, type CpuidOptions } from './cpuid.js';
