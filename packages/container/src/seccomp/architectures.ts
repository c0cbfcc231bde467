// The seccomp architectures isola compiles filters for, and how the kernel tells them apart: by
// seccomp_data.arch (an AUDIT_ARCH_* value) and, for x32, by a bit in the syscall number, because x32
// processes enter the kernel as AUDIT_ARCH_X86_64.
import { I386_SYSCALLS } from './syscalls/i386.js';
import { X32_SYSCALLS } from './syscalls/x32.js';
import { X86_64_SYSCALLS } from './syscalls/x86_64.js';

export const AUDIT_ARCH_X86_64 = 0xc000003e; // EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
export const AUDIT_ARCH_I386 = 0x40000003; //   EM_386 | __AUDIT_ARCH_LE
export const X32_SYSCALL_BIT = 0x40000000;

export type ArchitectureName = 'SCMP_ARCH_X86_64' | 'SCMP_ARCH_X86' | 'SCMP_ARCH_X32';

export interface Architecture {
  name: ArchitectureName;
  audit: number;
  /** The syscall numbers this ABI owns: [first, end). x86_64 and x32 split AUDIT_ARCH_X86_64's range. */
  first: number;
  end: number;
  /** libseccomp treats the ABI as 32-bit (ARCH_SIZE_32, x32 too) and compares only arguments' low halves. */
  narrow: boolean;
  syscalls: SyscallTable;
}

/**
 * One ABI's syscall numbers by name, read straight from its generated table: building Maps of the
 * ~1,300 names instead cost ~3 ms of every isola-runtime start, most containers' seccomp profile
 * looking up a few hundred of them.
 */
export class SyscallTable {
  constructor(
    private readonly numbers: Readonly<Record<string, number>>,
    private readonly bit = 0,
  ) {}

  get size(): number {
    return Object.keys(this.numbers).length;
  }

  has(name: string): boolean {
    return Object.hasOwn(this.numbers, name);
  }

  get(name: string): number | undefined {
    return this.has(name) ? (this.numbers[name]! | this.bit) >>> 0 : undefined;
  }

  keys(): IterableIterator<string> {
    return Object.keys(this.numbers)[Symbol.iterator]();
  }
}

const table = (names: Readonly<Record<string, number>>, bit = 0): SyscallTable => new SyscallTable(names, bit);

const U32_END = 2 ** 32;

export const ARCHITECTURES: Readonly<Record<ArchitectureName, Architecture>> = {
  SCMP_ARCH_X86_64: {
    name: 'SCMP_ARCH_X86_64', audit: AUDIT_ARCH_X86_64, first: 0, end: X32_SYSCALL_BIT, narrow: false, syscalls: table(X86_64_SYSCALLS),
  },
  SCMP_ARCH_X32: {
    name: 'SCMP_ARCH_X32', audit: AUDIT_ARCH_X86_64, first: X32_SYSCALL_BIT, end: U32_END, narrow: true, syscalls: table(X32_SYSCALLS, X32_SYSCALL_BIT),
  },
  SCMP_ARCH_X86: { name: 'SCMP_ARCH_X86', audit: AUDIT_ARCH_I386, first: 0, end: U32_END, narrow: true, syscalls: table(I386_SYSCALLS) },
};

export const isArchitectureName = (name: string): name is ArchitectureName => Object.hasOwn(ARCHITECTURES, name);
