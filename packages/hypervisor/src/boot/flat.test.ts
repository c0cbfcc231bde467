import { describe, expect, it } from 'vitest';
import { planFlatBoot } from './flat.js';

const isRam = (address: number, size: number) => address + size <= 2 << 20;

describe('planFlatBoot', () => {
  it('puts the bytes at 0x8000 and enters in real mode there', () => {
    const plan = planFlatBoot(Uint8Array.of(0xf4), { isRam });
    expect(plan).toEqual({ writes: [{ address: 0x8000, bytes: Uint8Array.of(0xf4), what: 'flat binary' }], zeroes: [], entry: { mode: 'real', rip: 0x8000 } });
  });

  it('refuses load addresses real mode cannot reach, empty images and images larger than RAM', () => {
    expect(() => planFlatBoot(Uint8Array.of(0xf4), { isRam, loadAddress: 0x10000 })).toThrow(/must lie in \[0x500, 0x10000\)/);
    expect(() => planFlatBoot(new Uint8Array(0), { isRam })).toThrow(/empty/);
    expect(() => planFlatBoot(new Uint8Array(4 << 20), { isRam })).toThrow(expect.objectContaining({ code: 'EBOOT_TOO_LARGE' }));
  });
});
