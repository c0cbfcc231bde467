// CPUID entries in the kvm_cpuid2 layout.
import * as s from '../abi/structs.js';

export interface CpuidEntry {
  function: number;
  index: number;
  flags: number;
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

const FIELDS = ['function', 'index', 'flags', 'eax', 'ebx', 'ecx', 'edx'] as const;

export function decodeCpuid(buf: Buffer): CpuidEntry[] {
  const n = buf.readUInt32LE(s.kvm_cpuid2.nent);
  const entries: CpuidEntry[] = [];
  for (let i = 0; i < n; i++) {
    const at = s.kvm_cpuid2.entries + i * s.kvm_cpuid_entry2.size;
    const entry = {} as CpuidEntry;
    for (const field of FIELDS) entry[field] = buf.readUInt32LE(at + s.kvm_cpuid_entry2[field]);
    entries.push(entry);
  }
  return entries;
}

export function encodeCpuid(entries: readonly CpuidEntry[]): Buffer {
  const buf = Buffer.alloc(s.kvm_cpuid2.size + entries.length * s.kvm_cpuid_entry2.size);
  buf.writeUInt32LE(entries.length, s.kvm_cpuid2.nent);
  entries.forEach((entry, i) => {
    const at = s.kvm_cpuid2.entries + i * s.kvm_cpuid_entry2.size;
    for (const field of FIELDS) buf.writeUInt32LE(entry[field] >>> 0, at + s.kvm_cpuid_entry2[field]);
  });
  return buf;
}
