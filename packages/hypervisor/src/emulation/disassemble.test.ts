import { describe, expect, it } from 'vitest';
import { decodeOne, formatInstruction } from '@isola/wasm';
import { disassemble } from './disassemble.js';

const text = (bytes: number[], bitness: 16 | 32 | 64 = 64) => disassemble({ formatInstruction }, decodeOne(Uint8Array.from(bytes), { bitness }));

describe('disassemble', () => {
  it('names the instructions KVM cannot emulate on PVM hosts, with their operands', () => {
    expect(text([0xcc])).toBe('int3');
    expect(text([0xcd, 0x80])).toBe('int 80h');
    expect(text([0x66, 0x0f, 0xef, 0xc0])).toBe('pxor xmm0, xmm0');
    expect(text([0xf0, 0x48, 0x0f, 0xc7, 0x0e])).toBe('lock cmpxchg16b xmmword ptr [rsi]');
    expect(text([0x0f, 0xae, 0x2f])).toMatch(/^xrstor .*\[rdi\]$/);
  });

  it('writes memory operands with size, base, index, scale and signed displacement', () => {
    expect(text([0x89, 0x4b, 0x08])).toBe('mov dword ptr [rbx+8], ecx');
    expect(text([0x48, 0x89, 0x44, 0xcb, 0xf0])).toBe('mov qword ptr [rbx+rcx*8-10h], rax');
    expect(text([0x65, 0x8b, 0x04, 0x25, 0x10, 0, 0, 0])).toBe('mov eax, dword ptr gs:[10h]');
    expect(text([0xf3, 0xa4])).toMatch(/^rep movsb/);
    expect(text([0x0f, 0x0b])).toBe('ud2');
  });
});
