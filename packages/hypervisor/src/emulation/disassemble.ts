// Intel-syntax text for a decoded instruction, for error messages and traces: "pxor xmm0, xmm0",
// "mov dword ptr [rbx+0x8], ecx". Not a full disassembler's output, but enough to name the instruction.
import type { DecodedInstruction, Operand } from '@isola/wasm';

const SIZE_NAMES: Record<number, string> = { 1: 'byte', 2: 'word', 4: 'dword', 8: 'qword', 10: 'tbyte', 16: 'xmmword', 32: 'ymmword', 64: 'zmmword' };

function signedHex(value: bigint): string {
  return value < 0n ? `-0x${(-value).toString(16)}` : `+0x${value.toString(16)}`;
}

function operandText(op: Operand, instruction: DecodedInstruction): string {
  switch (op.kind) {
    case 'register':
      return op.register;
    case 'immediate':
      return `0x${BigInt.asUintN(instruction.operandSize > 0 ? instruction.operandSize * 8 : 64, op.value).toString(16)}`;
    case 'nearBranch':
      return `0x${op.target.toString(16)}`;
    case 'farBranch':
      return `0x${op.selector.toString(16)}:0x${op.offset.toString(16)}`;
    case 'memory': {
      const parts: string[] = [];
      if (op.base) parts.push(op.base);
      if (op.index) parts.push(op.scale === 1 ? op.index : `${op.index}*${op.scale}`);
      let address = parts.join('+');
      const displacement = BigInt.asIntN(64, op.displacement);
      if (displacement !== 0n || address === '') address = address === '' ? `0x${op.displacement.toString(16)}` : `${address}${signedHex(displacement)}`;
      const size = SIZE_NAMES[op.size];
      const segment = op.segment === 'ds' || op.segment === 'ss' || op.segment === 'es' ? '' : `${op.segment}:`;
      return `${size ? `${size} ptr ` : ''}${segment}[${address}]`;
    }
    default:
      return '?';
  }
}

export function disassemble(instruction: DecodedInstruction): string {
  if (instruction.status !== 'ok') return `(${instruction.status})`;
  const operands = instruction.operands.map((op) => operandText(op, instruction)).join(', ');
  const prefix = `${instruction.lock ? 'lock ' : ''}${instruction.rep ? 'rep ' : ''}${instruction.repne ? 'repne ' : ''}`;
  return `${prefix}${instruction.mnemonic}${operands ? ` ${operands}` : ''}`;
}

export function hexBytes(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}
