// The DSDT: one Device per virtio-mmio transport under \_SB, as Linux's virtio_mmio driver finds them
// through ACPI (_HID "LNRO0005", the ID QEMU's arm virt machine and Firecracker use), each with its
// register window and interrupt in _CRS. The Debian kernel has no virtio_mmio.device= command-line
// support, so this is the only way it learns about them.
import { device, integer, memory32Fixed, name, extendedInterrupt, resourceTemplate, scope, string } from './aml.js';
import { sdt } from './sdt.js';

export const VIRTIO_MMIO_HID = 'LNRO0005';
export const DSDT_REVISION = 2;

/** A virtio-mmio transport as the VMM placed it: its registers and its interrupt (a GSI of the I/O APIC). */
export interface VirtioMmioDescriptor {
  base: number;
  size: number;
  irq: number;
}

/** The Device name of transport `index`: VR00, VR01, ... (hex, so 256 fit in four characters). */
export function virtioDeviceName(index: number): string {
  return `VR${index.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** The AML of the devices: Scope(\_SB_) { Device(VRnn) { _HID, _UID, _CRS } ... }. */
export function virtioMmioAml(devices: readonly VirtioMmioDescriptor[]): Uint8Array {
  const nodes = devices.map((d, i) =>
    device(
      virtioDeviceName(i),
      name('_HID', string(VIRTIO_MMIO_HID)),
      name('_UID', integer(i)),
      // Edge-triggered, active-high, exclusive: the device raises a pulse per notification, as Firecracker's do.
      name('_CRS', resourceTemplate(memory32Fixed(d.base, d.size), extendedInterrupt([d.irq], { edge: true }))),
    ),
  );
  return scope('\\_SB_', ...nodes);
}

export function encodeDsdt(devices: readonly VirtioMmioDescriptor[]): Uint8Array {
  return sdt('DSDT', DSDT_REVISION, virtioMmioAml(devices));
}
