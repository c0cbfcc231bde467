// Symbolic jumps become 8-bit offsets, or `ja` trampolines where the target is farther than 255.
import { describe, expect, it } from 'vitest';
import { Assembler } from './assembler.js';
import { runFilter } from './bpf.js';
import { BPF, encode } from './instruction.js';

/** `nr == 7 ? ret 1 : ret 2`, with `gap` dead instructions between the test and the first return. */
function program(gap: number) {
  const asm = new Assembler();
  const yes = asm.label();
  const no = asm.label();
  asm.load(0);
  asm.jump('jeq', 7, yes, no);
  asm.place(no);
  asm.ret(2);
  for (let i = 0; i < gap; i++) asm.ret(0xdead);
  asm.place(yes);
  asm.ret(1);
  return asm.assemble();
}

describe('Assembler', () => {
  it('encodes near jumps as offsets', () => {
    const insns = program(10);
    expect(insns[1]).toEqual({ code: BPF.JMP_JEQ_K, jt: 11, jf: 0, k: 7 });
    expect(insns.some((i) => i.code === BPF.JMP_JA)).toBe(false);
  });

  it('reaches a target 255 ahead directly and one 256 ahead through a ja', () => {
    expect(program(254)[1].jt).toBe(255);
    const far = program(255);
    expect(far[1]).toMatchObject({ jt: 0, jf: 1 });
    expect(far[2]).toEqual({ code: BPF.JMP_JA, jt: 0, jf: 0, k: 256 });
    for (const gap of [254, 255, 256, 1000]) {
      const filter = encode(program(gap));
      expect(runFilter(filter, { nr: 7, arch: 0 })).toBe(1);
      expect(runFilter(filter, { nr: 8, arch: 0 })).toBe(2);
    }
  });

  it('re-lays out when one trampoline pushes another jump out of reach', () => {
    // Two branches whose targets sit exactly 255 ahead until the other one's trampoline is added.
    const asm = new Assembler();
    const [a, b, aYes, bYes] = [asm.label(), asm.label(), asm.label(), asm.label()];
    asm.load(0);
    asm.jump('jeq', 1, aYes, a);
    asm.place(a);
    asm.jump('jeq', 2, bYes, b);
    asm.place(b);
    asm.ret(0);
    for (let i = 0; i < 253; i++) asm.ret(0xdead);
    asm.place(aYes);
    asm.ret(1);
    asm.place(bYes);
    asm.ret(2);
    const filter = encode(asm.assemble());
    expect([0, 1, 2].map((nr) => runFilter(filter, { nr, arch: 0 }))).toEqual([0, 1, 2]);
  });

  it('refuses backward or dangling jumps', () => {
    const asm = new Assembler();
    const back = asm.label();
    asm.place(back);
    asm.load(0);
    asm.jump('jeq', 1, back, back);
    expect(() => asm.assemble()).toThrow(/forward/);
  });
});
