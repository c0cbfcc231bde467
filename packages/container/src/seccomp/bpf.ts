// A classic-BPF interpreter for seccomp filters, so tests can check thousands of verdicts without the
// kernel. It runs what the kernel's checker would accept from our compiler and refuses anything else
// (an unknown opcode, a load outside seccomp_data, a jump past the end) rather than guess.
import { BPF, SECCOMP_DATA, decode } from './instruction.js';

export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** Up to six arguments; missing ones are 0. */
  args?: ReadonlyArray<bigint | number>;
}

/** The bytes of struct seccomp_data, little-endian as on x86. */
function layOut(data: SeccompData): DataView {
  const view = new DataView(new ArrayBuffer(SECCOMP_DATA.size));
  view.setUint32(SECCOMP_DATA.nr, data.nr >>> 0, true);
  view.setUint32(SECCOMP_DATA.arch, data.arch >>> 0, true);
  view.setBigUint64(SECCOMP_DATA.instructionPointer, data.instructionPointer ?? 0n, true);
  (data.args ?? []).forEach((arg, i) => view.setBigUint64(SECCOMP_DATA.argLow(i), BigInt.asUintN(64, BigInt(arg)), true));
  return view;
}

/** Runs `filter` on one syscall and returns the SECCOMP_RET_* value it decides. */
export function runFilter(filter: Uint8Array, data: SeccompData): number {
  const program = decode(filter);
  const view = layOut(data);
  let a = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const { code, jt, jf, k } = program[pc];
    switch (code) {
      case BPF.LD_W_ABS:
        if (k % 4 !== 0 || k + 4 > SECCOMP_DATA.size) throw new RangeError(`instruction ${pc}: load at offset ${k} is outside seccomp_data`);
        a = view.getUint32(k, true);
        break;
      case BPF.ALU_AND_K:
        a = (a & k) >>> 0;
        break;
      case BPF.JMP_JA:
        pc += k;
        break;
      case BPF.JMP_JEQ_K:
        pc += a === k ? jt : jf;
        break;
      case BPF.JMP_JGT_K:
        pc += a > k ? jt : jf;
        break;
      case BPF.JMP_JGE_K:
        pc += a >= k ? jt : jf;
        break;
      case BPF.JMP_JSET_K:
        pc += (a & k) !== 0 ? jt : jf;
        break;
      case BPF.RET_K:
        return k;
      default:
        throw new RangeError(`instruction ${pc}: opcode 0x${code.toString(16)} is not one this interpreter runs`);
    }
  }
  throw new RangeError('the filter ran past its last instruction without returning');
}
