// Placing an ELF kernel's PT_LOAD segments at their physical addresses: shared by the PVH and the
// 64-bit Linux boot paths. Pure: it adds writes and zeroes to a plan and returns the highest address.
import { hex, hypervisorError } from '../errors.js';
import { HIGH_MEMORY_START } from '../machine/layout.js';
import { type ElfImage, PT_LOAD } from './elf.js';
import type { BootPlan } from './plan.js';

export function planSegments(image: Uint8Array, elf: ElfImage, plan: BootPlan, isRam: (address: number, size: number) => boolean, name: string): number {
  let top = 0;
  for (const ph of elf.programHeaders) {
    if (ph.type !== PT_LOAD || ph.memorySize === 0) continue;
    const start = ph.physicalAddress;
    const end = start + ph.memorySize;
    if (!isRam(start, ph.memorySize)) {
      throw hypervisorError('EBOOT_TOO_LARGE', `${name}: PT_LOAD ${ph.index} at [${hex(start)}, ${hex(end)}) does not fit in guest RAM (give the VM more memory)`, {
        index: ph.index,
        start,
        end,
      });
    }
    if (start < HIGH_MEMORY_START) {
      throw hypervisorError('EBOOT_OVERLAP', `${name}: PT_LOAD ${ph.index} at ${hex(start)} lies below 1 MiB, where the boot structures are`, { index: ph.index, start });
    }
    plan.writes.push({ address: start, bytes: image.subarray(ph.offset, ph.offset + ph.fileSize), what: `PT_LOAD ${ph.index}` });
    if (ph.memorySize > ph.fileSize) plan.zeroes.push({ address: start + ph.fileSize, length: ph.memorySize - ph.fileSize });
    top = Math.max(top, end);
  }
  return top;
}
