// Each ACPI table field by field against ACPI 6.5 §5.2, with the tables' own checksums, and the plan
// that places them: the RSDP's XSDT pointer, the XSDT's entries and the FADT's DSDT all lead to the
// table they name.
import { describe, expect, it } from 'vitest';
import { planAcpi } from './build.js';
import { encodeDsdt, virtioMmioAml } from './dsdt.js';
import { encodeFadt } from './fadt.js';
import { encodeMadt } from './madt.js';
import { checksum, encodeRsdp, encodeXsdt } from './sdt.js';

const sum = (b: Uint8Array) => b.reduce((s, x) => (s + x) & 0xff, 0);
const text = (b: Uint8Array, at: number, n: number) => Buffer.from(b.subarray(at, at + n)).toString('ascii');
const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

function header(table: Uint8Array) {
  const v = view(table);
  return {
    signature: text(table, 0, 4),
    length: v.getUint32(4, true),
    revision: table[8],
    oemId: text(table, 10, 6),
    oemTableId: text(table, 16, 8),
    oemRevision: v.getUint32(24, true),
    creatorId: text(table, 28, 4),
    creatorRevision: v.getUint32(32, true),
    sum: sum(table),
  };
}

describe('ACPI tables', () => {
  it('checksum makes bytes sum to zero', () => {
    const bytes = Uint8Array.of(1, 2, 3, 0);
    bytes[3] = checksum(bytes);
    expect(bytes[3]).toBe(250);
    expect(sum(bytes)).toBe(0);
  });

  it('RSDP v2: signature, both checksums, revision 2, length 36, XSDT address', () => {
    const r = encodeRsdp(0xe0030);
    const v = view(r);
    expect(r.length).toBe(36);
    expect(text(r, 0, 8)).toBe('RSD PTR ');
    expect(sum(r.subarray(0, 20))).toBe(0);
    expect(sum(r)).toBe(0);
    expect(text(r, 9, 6)).toBe('ISOLA ');
    expect(r[15]).toBe(2);
    expect(v.getUint32(16, true)).toBe(0);
    expect(v.getUint32(20, true)).toBe(36);
    expect(v.getBigUint64(24, true)).toBe(0xe0030n);
    expect([...r.subarray(33)]).toEqual([0, 0, 0]);
  });

  it('XSDT: header, then one 64-bit address per table', () => {
    const x = encodeXsdt([0xe0100, 0x1_0000_0000]);
    expect(header(x)).toEqual({ signature: 'XSDT', length: 52, revision: 1, oemId: 'ISOLA ', oemTableId: 'ISOLAVM ', oemRevision: 1, creatorId: 'ISLA', creatorRevision: 1, sum: 0 });
    expect(view(x).getBigUint64(36, true)).toBe(0xe0100n);
    expect(view(x).getBigUint64(44, true)).toBe(0x1_0000_0000n);
  });

  it('FADT revision 6.5: hardware-reduced, DSDT in both pointers, no fixed hardware', () => {
    const f = encodeFadt(0xe0200);
    const v = view(f);
    expect(header(f)).toMatchObject({ signature: 'FACP', length: 276, revision: 6, sum: 0 });
    expect(v.getUint32(36, true)).toBe(0); // FIRMWARE_CTRL: no FACS
    expect(v.getUint32(40, true)).toBe(0xe0200); // DSDT
    expect(v.getUint16(46, true)).toBe(0); // SCI_INT
    expect(v.getUint32(48, true)).toBe(0); // SMI_CMD
    for (let at = 56; at < 88; at += 4) expect(v.getUint32(at, true)).toBe(0); // PM1a..GPE1 blocks
    expect(v.getUint16(109, true)).toBe(0b110); // IAPC_BOOT_ARCH: 8042, VGA not present
    const flags = v.getUint32(112, true);
    expect(flags & (1 << 20)).not.toBe(0); // HW_REDUCED_ACPI
    expect(flags & 0x30).toBe(0x30); // PWR_BUTTON, SLP_BUTTON: no fixed buttons
    expect([...f.subarray(116, 128)]).toEqual(new Array(12).fill(0)); // RESET_REG
    expect(f[131]).toBe(5); // minor version
    expect(v.getBigUint64(132, true)).toBe(0n); // X_FIRMWARE_CTRL
    expect(v.getBigUint64(140, true)).toBe(0xe0200n); // X_DSDT
    for (let at = 148; at < 268; at++) expect(f[at]).toBe(0); // X_ blocks, sleep registers
    expect(text(f, 268, 5)).toBe('ISOLA');
  });

  it('MADT: local APIC address, PCAT_COMPAT, an enabled LAPIC per vCPU, the I/O APIC, overrides', () => {
    const m = encodeMadt({ cpus: 3, overrides: [{ source: 0, gsi: 2, flags: 0 }] });
    const v = view(m);
    expect(header(m)).toMatchObject({ signature: 'APIC', revision: 5, length: 36 + 8 + 3 * 8 + 12 + 10, sum: 0 });
    expect(v.getUint32(36, true)).toBe(0xfee00000);
    expect(v.getUint32(40, true)).toBe(1);
    for (let cpu = 0; cpu < 3; cpu++) {
      const at = 44 + cpu * 8;
      expect([m[at], m[at + 1], m[at + 2], m[at + 3], v.getUint32(at + 4, true)]).toEqual([0, 8, cpu, cpu, 1]);
    }
    const io = 44 + 24;
    expect([m[io], m[io + 1], m[io + 2], m[io + 3], v.getUint32(io + 4, true), v.getUint32(io + 8, true)]).toEqual([1, 12, 0, 0, 0xfec00000, 0]);
    const iso = io + 12;
    expect([m[iso], m[iso + 1], m[iso + 2], m[iso + 3], v.getUint32(iso + 4, true), v.getUint16(iso + 8, true)]).toEqual([2, 10, 0, 0, 2, 0]);
  });

  it('DSDT: the header around the virtio-mmio AML', () => {
    const devices = [{ base: 0xd000_0000, size: 0x1000, irq: 5 }];
    const d = encodeDsdt(devices);
    expect(header(d)).toMatchObject({ signature: 'DSDT', revision: 2, length: d.length, sum: 0 });
    expect(d.subarray(36)).toEqual(virtioMmioAml(devices));
  });
});

describe('planAcpi', () => {
  const virtio = [
    { base: 0xd000_0000, size: 0x1000, irq: 5 },
    { base: 0xd000_1000, size: 0x1000, irq: 6 },
  ];

  it('places RSDP at 0xE0000 and chains RSDP → XSDT → FADT → DSDT, XSDT → MADT, all below 1 MiB', () => {
    const plan = planAcpi({ cpus: 2, virtio });
    expect(plan.rsdpAddress).toBe(0xe0000);
    const at = (what: string) => plan.writes.find((w) => w.what === what)!;
    expect(plan.writes.map((w) => w.what)).toEqual(['ACPI RSDP', 'ACPI XSDT', 'ACPI FADT', 'ACPI MADT', 'ACPI DSDT']);
    const rsdp = at('ACPI RSDP');
    const xsdt = at('ACPI XSDT');
    expect(Number(view(rsdp.bytes).getBigUint64(24, true))).toBe(xsdt.address);
    expect([0, 1].map((i) => Number(view(xsdt.bytes).getBigUint64(36 + 8 * i, true)))).toEqual([at('ACPI FADT').address, at('ACPI MADT').address]);
    expect(view(at('ACPI FADT').bytes).getUint32(40, true)).toBe(at('ACPI DSDT').address);
    for (let i = 1; i < plan.writes.length; i++) {
      const prev = plan.writes[i - 1]!;
      expect(plan.writes[i]!.address).toBeGreaterThanOrEqual(prev.address + prev.bytes.length);
      expect(plan.writes[i]!.address % 16).toBe(0);
    }
    const last = plan.writes.at(-1)!;
    expect(last.address + last.bytes.length).toBeLessThanOrEqual(0x100000);
    for (const w of plan.writes.slice(1)) expect(sum(w.bytes)).toBe(0);
    expect(view(at('ACPI MADT').bytes).getUint32(4, true)).toBe(36 + 8 + 16 + 12);
  });

  it('refuses machines the tables cannot describe', () => {
    expect(() => planAcpi({ cpus: 0 })).toThrow(/EACPI_LAYOUT|0 vCPUs/);
    expect(() => planAcpi({ cpus: 256 })).toThrow(expect.objectContaining({ code: 'EACPI_LAYOUT' }));
    expect(() => planAcpi({ cpus: 1, virtio, end: 0xe0100 })).toThrow(/ACPI tables need \[0xe0000, 0xe[0-9a-f]+\), past 0xe0100/);
  });
});

describe('MP table (MultiProcessor Specification 1.4)', () => {
  it('has a floating pointer and a configuration table with valid checksums and every entry', async () => {
    const { encodeMpTable } = await import('./mptable.js');
    const t = encodeMpTable(0x9fc00, 2);
    const v = view(t);
    expect(text(t, 0, 4)).toBe('_MP_');
    expect(v.getUint32(4, true)).toBe(0x9fc10);
    expect([t[8], t[9], sum(t.subarray(0, 16)), t[11], t[12]]).toEqual([1, 4, 0, 0, 0]);
    const c = t.subarray(16);
    const cv = view(c);
    expect(text(c, 0, 4)).toBe('PCMP');
    expect(cv.getUint16(4, true)).toBe(c.length);
    expect([c[6], sum(c)]).toEqual([4, 0]);
    expect(text(c, 8, 8)).toBe('ISOLA   ');
    expect(cv.getUint16(34, true)).toBe(2 + 1 + 1 + 24 + 2);
    expect(cv.getUint32(36, true)).toBe(0xfee00000);
    expect([...c.subarray(44, 48)]).toEqual([0, 0, 0x14, 3]); // CPU 0: enabled, boot processor
    expect([...c.subarray(64, 68)]).toEqual([0, 1, 0x14, 1]); // CPU 1: enabled
    expect([c[84], c[85], text(c, 86, 6)]).toEqual([1, 0, 'ISA   ']);
    expect([c[92], c[93], c[94], c[95], cv.getUint32(96, true)]).toEqual([2, 2, 0x11, 1, 0xfec00000]);
    for (let pin = 0; pin < 24; pin++) expect([...c.subarray(100 + 8 * pin, 108 + 8 * pin)]).toEqual([3, 0, 0, 0, 0, pin, 2, pin]);
    expect([...c.subarray(292, 308)]).toEqual([4, 3, 0, 0, 0, 0, 0xff, 0, 4, 1, 0, 0, 0, 0, 0xff, 1]);
    expect(c.length).toBe(308);
    expect(() => encodeMpTable(0x9fc00, 255)).toThrow(expect.objectContaining({ code: 'EACPI_LAYOUT' }));
  });
});
