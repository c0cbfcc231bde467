// Where virtio-mmio transports go: one 4 KiB window each from VIRTIO_MMIO_BASE up, and one I/O APIC
// input each, skipping the lines the legacy devices use (0-4 and 8: PIT, keyboard, cascade, COM2, COM1,
// RTC). The ACPI DSDT describes the same placements (acpi/dsdt.ts takes VirtioMmioDescriptor).
import { hypervisorError } from '../../errors.js';
import { VIRTIO_MMIO_BASE } from '../../machine/layout.js';
import { MMIO_WINDOW } from './spec.js';
import type { VirtioMmioDescriptor } from './transport.js';

export const VIRTIO_IRQS: readonly number[] = [5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23];

/** The placement of the `index`th transport. */
export function virtioMmioPlacement(index: number): VirtioMmioDescriptor {
  const irq = VIRTIO_IRQS[index];
  if (irq === undefined) {
    throw hypervisorError('EVM_CONFIG', `${index + 1} virtio devices: at most ${VIRTIO_IRQS.length} (one interrupt line each)`, { devices: index + 1 });
  }
  return { base: VIRTIO_MMIO_BASE + index * MMIO_WINDOW, size: MMIO_WINDOW, irq };
}
