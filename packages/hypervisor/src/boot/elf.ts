// ELF64 parsing for kernel images: the header, program headers and notes, validated against the file's
// length. Pure: nothing here reads files or touches guest memory. Each problem has its own code
// (EELF_MAGIC, EELF_SEGMENT, ...) and the message names the image, the field and the offending value.
import { hex, hypervisorError } from '../errors.js';
import { LeReader } from './endian.js';

export const PT_LOAD = 1;
export const PT_NOTE = 4;
const EM_X86_64 = 62;
const ET_EXEC = 2;
const ET_DYN = 3;
const EHDR_SIZE = 64;
const PHDR_SIZE = 56;

export interface ProgramHeader {
  index: number;
  type: number;
  flags: number;
  offset: number;
  /** A kernel's virtual addresses lie above 2^53: kept exact as a bigint, and not used for loading. */
  virtualAddress: bigint;
  physicalAddress: number;
  fileSize: number;
  memorySize: number;
  align: number;
}

export interface ElfImage {
  entry: number;
  type: 'exec' | 'dyn';
  programHeaders: ProgramHeader[];
}

export interface ElfNote {
  name: string;
  type: number;
  desc: Uint8Array;
}

export function parseElf(bytes: Uint8Array, name = 'kernel image'): ElfImage {
  if (bytes.length < EHDR_SIZE) {
    throw hypervisorError('EELF_TOO_SHORT', `${name}: ${bytes.length} bytes, shorter than an ELF64 header (64)`, { length: bytes.length });
  }
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    const magic = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const hint = bytes[0x202] === 0x48 && bytes[0x203] === 0x64 ? ' (this looks like a bzImage: give the ELF vmlinux)' : '';
    throw hypervisorError('EELF_MAGIC', `${name}: not an ELF file (magic ${magic}, expected 7f 45 4c 46)${hint}`, { magic });
  }
  if (bytes[4] !== 2) throw hypervisorError('EELF_CLASS', `${name}: ELF class ${bytes[4]}, expected 2 (ELF64)`, { class: bytes[4] });
  if (bytes[5] !== 1) throw hypervisorError('EELF_ENDIANNESS', `${name}: ELF data encoding ${bytes[5]}, expected 1 (little-endian)`, { data: bytes[5] });
  const r = new LeReader(bytes, name, 'EELF_PROGRAM_HEADERS');
  const type = r.u16(16, 'e_type');
  if (type !== ET_EXEC && type !== ET_DYN) throw hypervisorError('EELF_TYPE', `${name}: e_type ${type}, expected 2 (executable) or 3 (shared object)`, { type });
  const machine = r.u16(18, 'e_machine');
  if (machine !== EM_X86_64) throw hypervisorError('EELF_MACHINE', `${name}: e_machine ${machine}, expected 62 (x86-64)`, { machine });
  const entry = r.u64(24, 'e_entry');
  const phoff = r.u64(32, 'e_phoff');
  const phentsize = r.u16(54, 'e_phentsize');
  const phnum = r.u16(56, 'e_phnum');
  if (phnum === 0) throw hypervisorError('EELF_PROGRAM_HEADERS', `${name}: no program headers (e_phnum 0)`, { phnum });
  if (phentsize !== PHDR_SIZE) {
    throw hypervisorError('EELF_PROGRAM_HEADERS', `${name}: e_phentsize ${phentsize}, expected ${PHDR_SIZE}`, { phentsize });
  }
  if (phoff < EHDR_SIZE || phoff + phnum * PHDR_SIZE > bytes.length) {
    throw hypervisorError('EELF_PROGRAM_HEADERS', `${name}: ${phnum} program headers at e_phoff ${hex(phoff)} run past the end of the file (${bytes.length} bytes)`, {
      phoff,
      phnum,
      length: bytes.length,
    });
  }
  const programHeaders: ProgramHeader[] = [];
  for (let index = 0; index < phnum; index++) {
    const at = phoff + index * PHDR_SIZE;
    const ph: ProgramHeader = {
      index,
      type: r.u32(at, `p_type of program header ${index}`),
      flags: r.u32(at + 4, `p_flags of program header ${index}`),
      offset: r.u64(at + 8, `p_offset of program header ${index}`),
      virtualAddress: r.u64n(at + 16, `p_vaddr of program header ${index}`),
      physicalAddress: r.u64(at + 24, `p_paddr of program header ${index}`),
      fileSize: r.u64(at + 32, `p_filesz of program header ${index}`),
      memorySize: r.u64(at + 40, `p_memsz of program header ${index}`),
      align: r.u64(at + 48, `p_align of program header ${index}`),
    };
    if (ph.type === PT_LOAD || ph.type === PT_NOTE) {
      if (ph.offset + ph.fileSize > bytes.length) {
        throw hypervisorError('EELF_SEGMENT', `${name}: program header ${index} (${ph.type === PT_LOAD ? 'PT_LOAD' : 'PT_NOTE'}) covers file bytes [${hex(ph.offset)}, ${hex(ph.offset + ph.fileSize)}) past the end of the file (${hex(bytes.length)})`, {
          index,
          offset: ph.offset,
          fileSize: ph.fileSize,
          length: bytes.length,
        });
      }
      if (ph.type === PT_LOAD && ph.fileSize > ph.memorySize) {
        throw hypervisorError('EELF_SEGMENT', `${name}: PT_LOAD ${index} has p_filesz ${hex(ph.fileSize)} larger than p_memsz ${hex(ph.memorySize)}`, { index });
      }
    }
    programHeaders.push(ph);
  }
  if (!programHeaders.some((ph) => ph.type === PT_LOAD)) throw hypervisorError('EELF_SEGMENT', `${name}: no PT_LOAD segment`, {});
  return { entry, type: type === ET_EXEC ? 'exec' : 'dyn', programHeaders };
}

/** The notes of every PT_NOTE segment, each validated against its segment. */
export function parseNotes(bytes: Uint8Array, elf: ElfImage, name = 'kernel image'): ElfNote[] {
  const notes: ElfNote[] = [];
  for (const ph of elf.programHeaders) {
    if (ph.type !== PT_NOTE) continue;
    const segment = bytes.subarray(ph.offset, ph.offset + ph.fileSize);
    const r = new LeReader(segment, `${name}: PT_NOTE ${ph.index}`, 'EELF_NOTE');
    const align4 = (n: number) => (n + 3) & ~3;
    for (let at = 0; at < segment.length; ) {
      const namesz = r.u32(at, 'n_namesz');
      const descsz = r.u32(at + 4, 'n_descsz');
      const type = r.u32(at + 8, 'n_type');
      const nameAt = at + 12;
      const descAt = nameAt + align4(namesz);
      const end = descAt + align4(descsz);
      if (descAt + descsz > segment.length || nameAt + namesz > segment.length) {
        throw hypervisorError('EELF_NOTE', `${name}: a note at offset ${at} of PT_NOTE ${ph.index} (n_namesz ${namesz}, n_descsz ${descsz}) runs past its segment (${segment.length} bytes)`, {
          index: ph.index,
          offset: at,
          namesz,
          descsz,
        });
      }
      const rawName = segment.subarray(nameAt, nameAt + namesz);
      const nul = rawName.indexOf(0);
      notes.push({ name: Buffer.from(nul === -1 ? rawName : rawName.subarray(0, nul)).toString('latin1'), type, desc: segment.slice(descAt, descAt + descsz) });
      at = end;
    }
  }
  return notes;
}
