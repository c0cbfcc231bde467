// Intel-syntax text for a decoded instruction, for error messages and traces ("pxor xmm0, xmm0",
// "mov dword ptr [rbx+8], ecx"): @isola/wasm's formatter, which matches iced-x86's.
import type { DecodedInstruction } from '@isola/wasm';
import type { Emulator } from './emulator.js';

export function disassemble(emulator: Pick<Emulator, 'formatInstruction'>, instruction: DecodedInstruction): string {
  if (instruction.status !== 'ok') return `(${instruction.status})`;
  return emulator.formatInstruction(instruction, { syntax: 'intel' });
}

export function hexBytes(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}
