// Just enough ELF to vet the host's busybox before it becomes the image: which CPU it is for (the
// config's `architecture`) and whether it is static. Debian's plain `busybox` package is dynamically
// linked; in a rootfs without a libc it dies at exec with a baffling "no such file or directory", so
// it is refused here, where the fix (install busybox-static) can still be named.
import { IsolaError } from '@isola/errors';

export interface ElfFacts {
  /** The OCI/Go name of the CPU architecture, e.g. `amd64`. */
  architecture: string;
  /** True when the binary has no program interpreter (PT_INTERP), i.e. needs no dynamic loader. */
  isStatic: boolean;
}

// ELF64 header and program header fields we read (System V gABI, "ELF Header" / "Program Header").
const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
const EI_CLASS = 4;
const EI_DATA = 5;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const E_MACHINE = 0x12;
const E_PHOFF = 0x20;
const E_PHENTSIZE = 0x36;
const E_PHNUM = 0x38;
const ELF64_HEADER_SIZE = 0x40;
const P_TYPE = 0;
const PT_INTERP = 3;

// Only 64-bit little-endian targets: the ones isola runs on.
const MACHINES: Record<number, string> = { 62: 'amd64', 183: 'arm64', 243: 'riscv64' };

const le16 = (bytes: Uint8Array, offset: number): number => bytes[offset] | (bytes[offset + 1] << 8);
const le32 = (bytes: Uint8Array, offset: number): number => (le16(bytes, offset) | (le16(bytes, offset + 2) << 16)) >>> 0;
/** An offset into a file we hold in memory: anything past 2^53 is out of bounds anyway. */
const le64 = (bytes: Uint8Array, offset: number): number => le32(bytes, offset) + le32(bytes, offset + 4) * 2 ** 32;

export function inspectElf(bytes: Uint8Array, path: string): ElfFacts {
  const invalid = (why: string) => new IsolaError('EELF', `${path} is not a usable ELF binary: ${why}`, { details: { path } });
  if (bytes.length < ELF64_HEADER_SIZE || ELF_MAGIC.some((b, i) => bytes[i] !== b)) throw invalid('bad magic');
  if (bytes[EI_CLASS] !== ELFCLASS64 || bytes[EI_DATA] !== ELFDATA2LSB) throw invalid('not 64-bit little-endian');

  const machine = le16(bytes, E_MACHINE);
  const architecture = MACHINES[machine];
  if (architecture === undefined) throw invalid(`unsupported e_machine ${machine}`);

  const phoff = le64(bytes, E_PHOFF);
  const phentsize = le16(bytes, E_PHENTSIZE);
  const phnum = le16(bytes, E_PHNUM);
  if (phentsize < 4 || phoff + phnum * phentsize > bytes.length) throw invalid('program headers out of bounds');

  let isStatic = true;
  for (let i = 0; i < phnum; i++) if (le32(bytes, phoff + i * phentsize + P_TYPE) === PT_INTERP) isStatic = false;
  return { architecture, isStatic };
}
