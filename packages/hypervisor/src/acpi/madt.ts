// The MADT (ACPI 6.5 §5.2.12): the local APIC of each vCPU, the I/O APIC of KVM's in-kernel irqchip,
// and interrupt source overrides. KVM's default GSI routing wires ISA IRQ n to I/O APIC pin n (the
// PIT included), so isola's machine needs no override; the encoder takes them for machines that do.
import { sdt } from './sdt.js';

export const LOCAL_APIC_ADDRESS = 0xfee0_0000;
export const IO_APIC_ADDRESS = 0xfec0_0000;
export const MADT_REVISION = 5;
/** Flags: the machine also has dual 8259 PICs (KVM's irqchip has them). */
export const MADT_PCAT_COMPAT = 1;
export const MADT_LOCAL_APIC = 0;
export const MADT_IO_APIC = 1;
export const MADT_INTERRUPT_SOURCE_OVERRIDE = 2;
export const LOCAL_APIC_ENABLED = 1;

export interface InterruptSourceOverride {
  /** The ISA IRQ. */
  source: number;
  gsi: number;
  /** MPS INTI flags: polarity (bits 0-1) and trigger mode (bits 2-3); 0 = conforms to the bus. */
  flags: number;
}

export interface MadtOptions {
  cpus: number;
  ioApicId?: number;
  overrides?: readonly InterruptSourceOverride[];
}

export function encodeMadt(options: MadtOptions): Uint8Array {
  const overrides = options.overrides ?? [];
  const body = new Uint8Array(8 + 8 * options.cpus + 12 + 10 * overrides.length);
  const view = new DataView(body.buffer);
  view.setUint32(0, LOCAL_APIC_ADDRESS, true);
  view.setUint32(4, MADT_PCAT_COMPAT, true);
  let at = 8;
  for (let cpu = 0; cpu < options.cpus; cpu++) {
    body.set([MADT_LOCAL_APIC, 8, cpu, cpu], at); // type, length, ACPI processor UID, APIC ID
    view.setUint32(at + 4, LOCAL_APIC_ENABLED, true);
    at += 8;
  }
  body.set([MADT_IO_APIC, 12, options.ioApicId ?? 0, 0], at);
  view.setUint32(at + 4, IO_APIC_ADDRESS, true);
  view.setUint32(at + 8, 0, true); // its first pin is GSI 0
  at += 12;
  for (const o of overrides) {
    body.set([MADT_INTERRUPT_SOURCE_OVERRIDE, 10, 0, o.source], at); // bus 0 = ISA
    view.setUint32(at + 4, o.gsi, true);
    view.setUint16(at + 8, o.flags, true);
    at += 10;
  }
  return sdt('APIC', MADT_REVISION, body);
}
