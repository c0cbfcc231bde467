// The FADT (ACPI 6.5 §5.2.9), revision 6, for a hardware-reduced machine: no PM timer, no SCI, no
// GPE blocks, nothing at fixed ports. Its job here is to point at the DSDT and to say "hardware
// reduced", so the guest looks for devices in the namespace rather than probing ACPI hardware.
import { sdt } from './sdt.js';

export const FADT_SIZE = 276;
export const FADT_REVISION = 6;
export const FADT_MINOR_VERSION = 5;
/** Flags (§5.2.9, Table 5.10). */
export const FADT_HW_REDUCED_ACPI = 1 << 20;
export const FADT_PWR_BUTTON = 1 << 4;
export const FADT_SLP_BUTTON = 1 << 5;
/** IA-PC boot architecture flags (Table 5.11). */
export const IAPC_BOOT_ARCH_8042 = 1 << 1;
export const IAPC_BOOT_ARCH_VGA_NOT_PRESENT = 1 << 2;

export function encodeFadt(dsdtAddress: number): Uint8Array {
  const body = new Uint8Array(FADT_SIZE - 36);
  const view = new DataView(body.buffer);
  // Offsets below are the spec's, minus the 36-byte header.
  const at = (offset: number) => offset - 36;
  view.setUint32(at(40), dsdtAddress, true); // DSDT (32-bit)
  // The i8042 is there (it resets the machine); there is no VGA.
  view.setUint16(at(109), IAPC_BOOT_ARCH_8042 | IAPC_BOOT_ARCH_VGA_NOT_PRESENT, true);
  // No fixed power or sleep buttons: in hardware-reduced ACPI they would be GED devices.
  view.setUint32(at(112), FADT_HW_REDUCED_ACPI | FADT_PWR_BUTTON | FADT_SLP_BUTTON, true);
  body[at(131)] = FADT_MINOR_VERSION;
  view.setBigUint64(at(140), BigInt(dsdtAddress), true); // X_DSDT
  // Hypervisor Vendor Identity (offset 268): "ISOLA", as a guest may print it.
  body.set(Buffer.from('ISOLA\0\0\0', 'ascii'), at(268));
  return sdt('FACP', FADT_REVISION, body);
}
