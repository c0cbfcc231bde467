// The Intel MultiProcessor Specification 1.4 tables (floating pointer + configuration table), for
// guests booted with acpi=off or too old for ACPI: the processors, an ISA bus, the I/O APIC with
// ISA IRQ n on pin n (KVM's default routing), ExtINT on LINT0 and NMI on LINT1. It sits in the
// first KiB of the EBDA, where Linux looks (arch/x86/kernel/mpparse.c, smp_scan_config).
import { hypervisorError } from '../errors.js';
import { IO_APIC_ADDRESS, LOCAL_APIC_ADDRESS } from './madt.js';
import { ascii, checksum } from './sdt.js';

export const MP_FLOATING_SIZE = 16;
const HEADER_SIZE = 44;
const PROCESSOR_SIZE = 20;
const SMALL_ENTRY_SIZE = 8;
const IOAPIC_PINS = 24;
export const MP_ENTRY = { PROCESSOR: 0, BUS: 1, IOAPIC: 2, IO_INTERRUPT: 3, LOCAL_INTERRUPT: 4 } as const;
const INT_TYPE = { INT: 0, NMI: 1, EXTINT: 3 } as const;
/** The local APIC and I/O APIC versions KVM's in-kernel models report. */
const LAPIC_VERSION = 0x14;
const IOAPIC_VERSION = 0x11;
const CPU_ENABLED = 1;
const CPU_BOOT_PROCESSOR = 2;
const BUS_ISA = 0;

export function mpTableSize(cpus: number): number {
  return MP_FLOATING_SIZE + HEADER_SIZE + cpus * PROCESSOR_SIZE + SMALL_ENTRY_SIZE * (2 + IOAPIC_PINS + 2);
}

/** The floating pointer at `address`, the configuration table right after it. */
export function encodeMpTable(address: number, cpus: number): Uint8Array {
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 254) throw hypervisorError('EACPI_LAYOUT', `${cpus} vCPUs: the MP table describes 1 to 254 (the I/O APIC takes the next ID)`, { cpus });
  const out = new Uint8Array(mpTableSize(cpus));
  const v = new DataView(out.buffer);
  const ioapicId = cpus;
  // Floating pointer structure.
  ascii(out, 0, '_MP_');
  v.setUint32(4, address + MP_FLOATING_SIZE, true);
  out[8] = 1; // length in 16-byte units
  out[9] = 4; // spec revision 1.4
  out[10] = checksum(out.subarray(0, MP_FLOATING_SIZE));
  // Configuration table.
  const table = out.subarray(MP_FLOATING_SIZE);
  const t = new DataView(table.buffer, table.byteOffset, table.byteLength);
  ascii(table, 0, 'PCMP');
  t.setUint16(4, table.length, true);
  table[6] = 4;
  ascii(table, 8, 'ISOLA   ');
  ascii(table, 16, 'MICROVM     ');
  t.setUint16(34, cpus + 2 + IOAPIC_PINS + 2, true);
  t.setUint32(36, LOCAL_APIC_ADDRESS, true);
  let at = HEADER_SIZE;
  for (let cpu = 0; cpu < cpus; cpu++) {
    table.set([MP_ENTRY.PROCESSOR, cpu, LAPIC_VERSION, CPU_ENABLED | (cpu === 0 ? CPU_BOOT_PROCESSOR : 0)], at);
    t.setUint32(at + 4, 0x600, true); // CPU signature: family 6
    t.setUint32(at + 8, 0x201, true); // features: FPU, APIC
    at += PROCESSOR_SIZE;
  }
  table.set([MP_ENTRY.BUS, BUS_ISA], at);
  ascii(table, at + 2, 'ISA   ');
  at += SMALL_ENTRY_SIZE;
  table.set([MP_ENTRY.IOAPIC, ioapicId, IOAPIC_VERSION, 1], at);
  t.setUint32(at + 4, IO_APIC_ADDRESS, true);
  at += SMALL_ENTRY_SIZE;
  for (let pin = 0; pin < IOAPIC_PINS; pin++) {
    // type, interrupt type, flags (conform to the bus), source bus, source IRQ, destination I/O APIC, pin
    table.set([MP_ENTRY.IO_INTERRUPT, INT_TYPE.INT, 0, 0, BUS_ISA, pin, ioapicId, pin], at);
    at += SMALL_ENTRY_SIZE;
  }
  // Destination 0xff: every local APIC.
  table.set([MP_ENTRY.LOCAL_INTERRUPT, INT_TYPE.EXTINT, 0, 0, BUS_ISA, 0, 0xff, 0], at);
  table.set([MP_ENTRY.LOCAL_INTERRUPT, INT_TYPE.NMI, 0, 0, BUS_ISA, 0, 0xff, 1], at + SMALL_ENTRY_SIZE);
  table[7] = checksum(table);
  return out;
}
