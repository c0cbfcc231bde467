// Where the ACPI tables go and what they hold: a pure plan (address, bytes) the boot executor writes,
// and the RSDP address the boot paths hand the guest (PVH start_info.rsdp_paddr, boot_params
// acpi_rsdp_addr). The RSDP sits at the start of the BIOS area, where a guest that is told nothing
// finds it by scanning 0xE0000-0xFFFFF.
import { hex, hypervisorError } from '../errors.js';
import { ACPI_TABLES_ADDRESS, ACPI_TABLES_END } from '../machine/layout.js';
import { encodeDsdt, type VirtioMmioDescriptor } from './dsdt.js';
import { encodeFadt } from './fadt.js';
import { encodeMadt, type InterruptSourceOverride } from './madt.js';
import { encodeRsdp, encodeXsdt, RSDP_SIZE } from './sdt.js';

export interface AcpiOptions {
  cpus: number;
  virtio?: readonly VirtioMmioDescriptor[];
  overrides?: readonly InterruptSourceOverride[];
  /** Where the RSDP goes; the tables follow it. */
  address?: number;
  /** The first byte the tables may not reach. */
  end?: number;
}

export interface AcpiPlan {
  rsdpAddress: number;
  writes: { address: number; bytes: Uint8Array; what: string }[];
}

const MAX_CPUS = 255;
const MAX_VIRTIO = 256;
const align16 = (n: number) => (n + 15) & ~15;

export function planAcpi(options: AcpiOptions): AcpiPlan {
  const { cpus } = options;
  const virtio = options.virtio ?? [];
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > MAX_CPUS) {
    throw hypervisorError('EACPI_LAYOUT', `${cpus} vCPUs: the MADT describes 1 to ${MAX_CPUS} (8-bit APIC IDs)`, { cpus });
  }
  if (virtio.length > MAX_VIRTIO) throw hypervisorError('EACPI_LAYOUT', `${virtio.length} virtio-mmio devices: at most ${MAX_VIRTIO}`, {});
  const rsdpAddress = options.address ?? ACPI_TABLES_ADDRESS;
  const end = options.end ?? ACPI_TABLES_END;
  // The DSDT and MADT do not depend on where they are; the FADT and XSDT hold addresses.
  const dsdt = encodeDsdt(virtio);
  const madt = encodeMadt({ cpus, overrides: options.overrides });
  const xsdtAddress = align16(rsdpAddress + RSDP_SIZE);
  const xsdtSize = 36 + 8 * 2;
  const fadtAddress = align16(xsdtAddress + xsdtSize);
  const fadt = encodeFadt(0); // sized first; re-encoded below with the DSDT's address
  const madtAddress = align16(fadtAddress + fadt.length);
  const dsdtAddress = align16(madtAddress + madt.length);
  const last = dsdtAddress + dsdt.length;
  if (last > end) {
    throw hypervisorError('EACPI_LAYOUT', `ACPI tables need [${hex(rsdpAddress)}, ${hex(last)}), past ${hex(end)}`, { rsdpAddress, last, end });
  }
  return {
    rsdpAddress,
    writes: [
      { address: rsdpAddress, bytes: encodeRsdp(xsdtAddress), what: 'ACPI RSDP' },
      { address: xsdtAddress, bytes: encodeXsdt([fadtAddress, madtAddress]), what: 'ACPI XSDT' },
      { address: fadtAddress, bytes: encodeFadt(dsdtAddress), what: 'ACPI FADT' },
      { address: madtAddress, bytes: madt, what: 'ACPI MADT' },
      { address: dsdtAddress, bytes: dsdt, what: 'ACPI DSDT' },
    ],
  };
}
