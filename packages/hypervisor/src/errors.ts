// Every error this package throws is an IsolaError with one of these codes. EELF_* and EPVH_* name a
// problem in a kernel image (the message names the file and the field), EBOOT_* a guest that does not
// fit the machine, EVCPU_* a guest that stopped in a way the monitor cannot continue from.
import { IsolaError } from '@isola/errors';

export type HypervisorErrorCode =
  | 'EVM_CONFIG'
  | 'EVM_STATE'
  | 'EVM_GUEST_MEMORY'
  | 'EVM_DISK'
  | 'EELF_TOO_SHORT'
  | 'EELF_MAGIC'
  | 'EELF_CLASS'
  | 'EELF_ENDIANNESS'
  | 'EELF_MACHINE'
  | 'EELF_TYPE'
  | 'EELF_PROGRAM_HEADERS'
  | 'EELF_SEGMENT'
  | 'EELF_NOTE'
  | 'EPVH_NO_ENTRY'
  | 'EBZIMAGE_TOO_SHORT'
  | 'EBZIMAGE_MAGIC'
  | 'EBZIMAGE_PROTOCOL'
  | 'EBZIMAGE_NO_64BIT_ENTRY'
  | 'EBZIMAGE_TRUNCATED'
  | 'EBOOT_INITRD'
  | 'EACPI_AML'
  | 'EACPI_LAYOUT'
  | 'EVM_NOT_FOUND'
  | 'EVM_AMBIGUOUS'
  | 'EVM_NAME_IN_USE'
  | 'EVM_RUNNING'
  | 'EVM_MONITOR'
  | 'EBOOT_TOO_LARGE'
  | 'EBOOT_OVERLAP'
  | 'EVCPU_THREAD'
  | 'EVCPU_EMULATION'
  | 'EVCPU_SHUTDOWN'
  | 'EVCPU_INTERNAL'
  | 'EVCPU_FAIL_ENTRY'
  | 'EVCPU_UNHANDLED_EXIT';

export function hypervisorError(code: HypervisorErrorCode, message: string, details: Record<string, unknown> = {}, cause?: unknown): IsolaError {
  return new IsolaError(code, message, { details, cause });
}

/** Guest addresses and register values read best in hex. */
export function hex(value: number | bigint, width = 0): string {
  return `0x${value.toString(16).padStart(width, '0')}`;
}
