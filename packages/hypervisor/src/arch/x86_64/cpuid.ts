// The CPUID a vCPU reports: KVM's supported set, with the APIC ID of the vCPU and features a VM asks
// to hide (on PVM hosts, CX16 and XSAVE lead guests into instructions KVM cannot emulate).
import type { CpuidEntry } from '@isola/sys';

export type CpuFeature = 'cx16' | 'xsave' | 'avx' | 'x2apic' | 'pdpe1gb' | 'arch-capabilities';

const FEATURES: Record<CpuFeature, { leaf: number; register: 'ecx' | 'edx'; bit: number }> = {
  cx16: { leaf: 1, register: 'ecx', bit: 13 },
  x2apic: { leaf: 1, register: 'ecx', bit: 21 },
  xsave: { leaf: 1, register: 'ecx', bit: 26 },
  avx: { leaf: 1, register: 'ecx', bit: 28 },
  pdpe1gb: { leaf: 0x8000_0001, register: 'edx', bit: 26 },
  'arch-capabilities': { leaf: 7, register: 'edx', bit: 29 },
};

const HYPERVISOR_BIT = 1 << 31;

export interface CpuidOptions {
  apicId: number;
  hide?: readonly CpuFeature[];
}

export function vcpuCpuid(supported: readonly CpuidEntry[], options: CpuidOptions): CpuidEntry[] {
  return supported.map((source) => {
    const entry = { ...source };
    if (entry.function === 1) {
      entry.ebx = ((entry.ebx & 0x00ff_ffff) | (options.apicId << 24)) >>> 0;
      entry.ecx = (entry.ecx | HYPERVISOR_BIT) >>> 0;
    }
    if (entry.function === 0xb || entry.function === 0x1f) entry.edx = options.apicId;
    for (const name of options.hide ?? []) {
      const f = FEATURES[name];
      if (entry.function === f.leaf && (f.leaf !== 7 || entry.index === 0)) entry[f.register] = (entry[f.register] & ~(1 << f.bit)) >>> 0;
    }
    // XSAVE hidden means OSXSAVE and AVX (which needs it) must go too.
    if (entry.function === 1 && options.hide?.includes('xsave')) entry.ecx = (entry.ecx & ~((1 << 27) | (1 << 28))) >>> 0;
    return entry;
  });
}
