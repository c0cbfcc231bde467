// The guest page walk against page tables built by hand in guest memory: every paging mode, large
// pages, unmapped addresses, and code that runs off the end of its mapping.
import { afterEach, describe, expect, it } from 'vitest';
import type { Sregs } from '@isola/sys';
import { GuestMemory } from '../machine/memory.js';
import { readGuestCode, translate } from './guest-pages.js';

const P = 1n;
const PS = 0x80n;
const PG_PE = (1n << 31n) | 1n;
let memory: GuestMemory;
afterEach(() => memory?.close());

function setup() {
  memory = GuestMemory.allocate(4 << 20);
  const put64 = (address: number, value: bigint) => new DataView(memory.slice(address, 8).buffer, memory.slice(address, 8).byteOffset).setBigUint64(0, value, true);
  const put32 = (address: number, value: number) => new DataView(memory.slice(address, 4).buffer, memory.slice(address, 4).byteOffset).setUint32(0, value, true);
  return { put64, put32 };
}

describe('translate', () => {
  it('walks 4-level long-mode tables: 4 KiB, 2 MiB and 1 GiB pages, and misses unmapped ones', () => {
    const { put64 } = setup();
    const paging = { cr0: PG_PE, cr3: 0x1000n, cr4: 0x20n, efer: 0x500n };
    put64(0x1000 + 8 * 0x1ff, 0x2000n | P); // PML4[511]
    put64(0x2000 + 8 * 0x1fe, 0x3000n | P); // PDPT[510]: -2 GiB
    put64(0x3000 + 8 * 0, 0x4000n | P); // PD[0] -> PT
    put64(0x4000 + 8 * 5, 0x0023_4000n | P); // PT[5]: 4 KiB page
    put64(0x3000 + 8 * 1, 0x0020_0000n | P | PS); // PD[1]: 2 MiB page
    put64(0x2000 + 8 * 0x1ff, 0x4000_0000n | P | PS); // PDPT[511]: 1 GiB page
    expect(translate(memory, paging, 0xffff_ffff_8000_5123n)).toBe(0x23_4123n);
    expect(translate(memory, paging, 0xffff_ffff_8021_2345n)).toBe(0x21_2345n);
    expect(translate(memory, paging, 0xffff_ffff_c012_3456n)).toBe(0x4012_3456n);
    expect(translate(memory, paging, 0xffff_ffff_8000_6000n)).toBeUndefined();
    expect(translate(memory, paging, 0x1000n)).toBeUndefined();
    // Paging off: linear is physical.
    expect(translate(memory, { ...paging, cr0: 1n }, 0x1234n)).toBe(0x1234n);
  });

  it('walks PAE and 32-bit tables, with 2 MiB and 4 MiB pages', () => {
    const { put64, put32 } = setup();
    put64(0x1020 + 8 * 3, 0x2000n | P); // PDPTE[3] of a table at 0x1020
    put64(0x2000 + 8 * 0x1ff, 0x0020_0000n | P | PS); // 2 MiB at 0xffe00000
    expect(translate(memory, { cr0: PG_PE, cr3: 0x1020n, cr4: 0x20n, efer: 0n }, 0xffe1_2345n)).toBe(0x21_2345n);
    put32(0x3000 + 4 * 0x300, 0x0040_0000 | 0x81); // 4 MiB page at 0xc0000000
    put32(0x3000 + 4 * 1, 0x5000 | 1); // PT for 0x00400000
    put32(0x5000 + 4 * 2, 0x0009_9000 | 1);
    const legacy = { cr0: PG_PE, cr3: 0x3000n, cr4: 0x10n, efer: 0n };
    expect(translate(memory, legacy, 0xc012_3456n)).toBe(0x52_3456n);
    expect(translate(memory, legacy, 0x0040_2abcn)).toBe(0x9_9abcn);
    expect(translate(memory, legacy, 0x0040_3000n)).toBeUndefined();
  });
});

describe('readGuestCode', () => {
  it('reads across pages and stops where the mapping ends', () => {
    const { put64 } = setup();
    put64(0x1000, 0x2000n | P);
    put64(0x2000, 0x3000n | P);
    put64(0x3000, 0x4000n | P);
    put64(0x4000 + 8 * 0x10, 0x0011_0000n | P); // 0x10000 -> 0x110000
    put64(0x4000 + 8 * 0x11, 0x0030_0000n | P); // 0x11000 -> 0x300000
    memory.slice(0x110ffe, 2).set([0xaa, 0xbb]);
    memory.slice(0x300000, 2).set([0xcc, 0xdd]);
    const sregs = { cr0: PG_PE, cr3: 0x1000n, cr4: 0x20n, efer: 0x500n, cs: { l: true, base: 0n } } as unknown as Sregs;
    expect([...readGuestCode(memory, sregs, 0x10ffen, 4)]).toEqual([0xaa, 0xbb, 0xcc, 0xdd]);
    expect(readGuestCode(memory, sregs, 0x11ffen, 15)).toHaveLength(2);
    expect(readGuestCode(memory, sregs, 0x20000n, 15)).toHaveLength(0);
  });
});
