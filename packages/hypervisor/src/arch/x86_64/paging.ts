// Identity-mapped page tables for guests entered in long mode (Linux's 64-bit boot protocol): the
// first 4 GiB in 2 MiB pages, as a PML4, a PDPT and four page directories in six consecutive pages.
// 2 MiB pages, not 1 GiB: 1 GiB pages shut the guest down on PVM hosts (see MACHINE.md).

export const PAGE_TABLES_SIZE = 6 * 4096;
const PRESENT_WRITABLE = 0x3n;
const PAGE_SIZE_2M = 0x80n;

/** The bytes to place at `base` (4 KiB aligned); CR3 = base. */
export function identityMap4G(base: number): Uint8Array {
  if (base % 4096 !== 0) throw new RangeError(`page tables at 0x${base.toString(16)}: not 4 KiB aligned`);
  const out = new Uint8Array(PAGE_TABLES_SIZE);
  const v = new DataView(out.buffer);
  const pdpt = base + 4096;
  v.setBigUint64(0, BigInt(pdpt) | PRESENT_WRITABLE, true);
  for (let gib = 0; gib < 4; gib++) {
    const pd = base + (2 + gib) * 4096;
    v.setBigUint64(4096 + gib * 8, BigInt(pd) | PRESENT_WRITABLE, true);
    for (let i = 0; i < 512; i++) {
      const address = BigInt(gib) * 0x4000_0000n + BigInt(i) * 0x20_0000n;
      v.setBigUint64((2 + gib) * 4096 + i * 8, address | PAGE_SIZE_2M | PRESENT_WRITABLE, true);
    }
  }
  return out;
}
