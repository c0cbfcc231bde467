// ACPI tables for isola's machine: a typed AML encoder and the RSDP, XSDT, FADT, MADT and DSDT; and
// the older MP table for guests without ACPI.
export { planAcpi, type AcpiOptions, type AcpiPlan } from './build.js';
export { encodeDsdt, virtioMmioAml, virtioDeviceName, VIRTIO_MMIO_HID, type VirtioMmioDescriptor } from './dsdt.js';
export { encodeFadt, FADT_HW_REDUCED_ACPI } from './fadt.js';
export { encodeMadt, IO_APIC_ADDRESS, LOCAL_APIC_ADDRESS, type InterruptSourceOverride, type MadtOptions } from './madt.js';
export { checksum, encodeRsdp, encodeXsdt, sdt } from './sdt.js';
export { encodeMpTable, mpTableSize } from './mptable.js';
export * as aml from './aml.js';
