// Classic BPF as seccomp uses it: 8-byte sock_filter instructions in host (little-endian) order, and
// the seccomp_data layout the program reads. Only the opcodes the compiler emits are named here.

export interface Instruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export const BPF = {
  LD_W_ABS: 0x20, //  A = seccomp_data[k] (32 bits)
  ALU_AND_K: 0x54, // A &= k
  JMP_JA: 0x05, //    pc += k
  JMP_JEQ_K: 0x15, // pc += A == k ? jt : jf
  JMP_JGT_K: 0x25,
  JMP_JGE_K: 0x35,
  JMP_JSET_K: 0x45, // pc += A & k ? jt : jf
  RET_K: 0x06,
} as const;

/** Offsets into struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; }. */
export const SECCOMP_DATA = {
  nr: 0,
  arch: 4,
  instructionPointer: 8,
  argLow: (index: number) => 16 + 8 * index,
  argHigh: (index: number) => 20 + 8 * index,
  size: 64,
} as const;

/** The kernel refuses longer programs (BPF_MAXINSNS). */
export const MAX_INSTRUCTIONS = 4096;
/** Conditional jumps skip at most this many instructions; farther targets need a `ja` trampoline. */
export const MAX_SHORT_JUMP = 255;

export function encode(program: readonly Instruction[]): Uint8Array {
  const bytes = new Uint8Array(program.length * 8);
  const view = new DataView(bytes.buffer);
  program.forEach(({ code, jt, jf, k }, i) => {
    view.setUint16(i * 8, code, true);
    view.setUint8(i * 8 + 2, jt);
    view.setUint8(i * 8 + 3, jf);
    view.setUint32(i * 8 + 4, k >>> 0, true);
  });
  return bytes;
}

export function decode(bytes: Uint8Array): Instruction[] {
  if (bytes.byteLength % 8 !== 0) throw new RangeError(`a BPF program is whole 8-byte instructions, not ${bytes.byteLength} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const program: Instruction[] = [];
  for (let at = 0; at < bytes.byteLength; at += 8) {
    program.push({ code: view.getUint16(at, true), jt: view.getUint8(at + 2), jf: view.getUint8(at + 3), k: view.getUint32(at + 4, true) });
  }
  return program;
}
