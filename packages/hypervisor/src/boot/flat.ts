// Flat binaries, for the test guests: the bytes go to one address and the vCPU starts there in real
// mode. No header, nothing to parse: the caller says where.
import { hex, hypervisorError } from '../errors.js';
import { FLAT_LOAD_ADDRESS } from '../machine/layout.js';
import type { BootPlan } from './plan.js';

export interface FlatOptions {
  loadAddress?: number;
  isRam(address: number, size: number): boolean;
}

export function planFlatBoot(image: Uint8Array, options: FlatOptions): BootPlan {
  const address = options.loadAddress ?? FLAT_LOAD_ADDRESS;
  if (address + 1 > 0x1_0000 || address < 0x500) {
    throw hypervisorError('EVM_CONFIG', `flat binaries start in real mode: load address ${hex(address)} must lie in [0x500, 0x10000)`, { address });
  }
  if (image.length === 0) throw hypervisorError('EVM_CONFIG', 'the flat binary is empty', {});
  if (!options.isRam(address, image.length)) {
    throw hypervisorError('EBOOT_TOO_LARGE', `flat binary of ${image.length} bytes at ${hex(address)} does not fit in guest RAM`, { address, length: image.length });
  }
  return { writes: [{ address, bytes: image, what: 'flat binary' }], zeroes: [], entry: { mode: 'real', rip: address } };
}
