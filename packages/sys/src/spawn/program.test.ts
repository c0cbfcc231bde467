// The program layout the interpreter (and the TS path) reads: numbers, flags and pointers land as u64s.
import { describe, expect, it } from 'vitest';
import { PROGRAM } from './interpreter.js';
import { layOutProgram, programSize, slot, type Step } from './program.js';

describe('layOutProgram', () => {
  it('writes negative, large and BigInt arguments as u64s, and slot references as flags', () => {
    const steps: Step[] = [
      { syscall: 'openat', args: [-100, 2 ** 40 + 5, 0xffffffffn, 7, -1n], describe: 'numbers', ignoreFailure: true, saveTo: 3 },
      { syscall: 'close', args: [slot(3), 'text'], describe: 'slot and string' },
    ];
    const memory = new Uint8Array(programSize(steps));
    const base = 0x7f0000001000n;
    layOutProgram(steps, 9, memory, base);
    const view = new DataView(memory.buffer);
    const u64 = (at: number) => view.getBigUint64(at, true);
    expect(u64(PROGRAM.count)).toBe(2n);
    expect(u64(PROGRAM.errorFd)).toBe(9n);
    const first = PROGRAM.steps;
    expect(u64(first)).toBe(257n); // openat on x86-64
    expect([1, 2, 3, 4, 5].map((a) => u64(first + 8 * a))).toEqual([BigInt.asUintN(64, -100n), 2n ** 40n + 5n, 0xffffffffn, 7n, 2n ** 64n - 1n]);
    expect(u64(first + PROGRAM.flags)).toBe(1n | (4n << 8n));
    const second = first + PROGRAM.stepSize;
    expect(u64(second + PROGRAM.flags)).toBe(4n << 16n);
    const pointer = u64(second + 16);
    const at = Number(pointer - base);
    expect(Buffer.from(memory.subarray(at, at + 5)).toString('latin1')).toBe('text\0');
  });
});
