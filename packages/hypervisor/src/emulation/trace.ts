// --trace-mmio: one line per KVM_EXIT_MMIO, with the instruction that made the access, disassembled
// from the guest's bytes (read through its page tables):
//   mmio write 4 bytes at 0xd0000070 = 0x0000000f  rip=0x10002b  mov dword ptr [rax+70h], ecx
// Reads show the data the device returned. The runner calls this only when tracing is on.
// KVM exits for a read before the instruction completes (RIP is at it) but for a write after it
// (arch/x86/kvm/x86.c writes RIP back before the exit), so a write's instruction is the one that ends
// at RIP: of the encodings that end there, the one that stores as many bytes as the exit has to its
// address. The line shows the instruction's own address.
import type { Regs, Sregs, VcpuExit } from '@isola/sys';
import type { DecodedInstruction, MemoryOperand, Register } from '@isola/wasm';
import { hex } from '../errors.js';
import type { GuestMemory } from '../machine/memory.js';
import { disassemble } from './disassemble.js';
import type { Emulator } from './emulator.js';
import { bitnessOf } from './failure.js';
import { readGuestCode, translate } from './guest-pages.js';

type MmioExit = Extract<VcpuExit, { kind: 'mmio' }>;

/** The longest x86 instruction. */
const MAX_INSTRUCTION = 15;

/** The value of little-endian bytes, zero-padded to their width. */
function littleEndianHex(data: Uint8Array): string {
  let value = 0n;
  for (let i = data.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(data[i]!);
  return hex(value, data.length * 2);
}

export function formatMmioAccess(exit: Pick<MmioExit, 'isWrite' | 'address' | 'data'>, rip: bigint, instruction: string): string {
  const size = exit.data.length;
  return `mmio ${exit.isWrite ? 'write' : 'read'} ${size} byte${size === 1 ? '' : 's'} at ${hex(exit.address)} = ${littleEndianHex(exit.data)}  rip=${hex(rip)}  ${instruction}`;
}

const GPR64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi'] as const;
const GPR32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const GPR16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];

/** An address register's value (64-, 32- or 16-bit names), or undefined for one that cannot address. */
function registerValue(name: Register, regs: Regs, nextIp: bigint): bigint | undefined {
  if (name === 'rip' || name === 'eip') return nextIp;
  const wide = name.match(/^r(\d+)[dw]?$/);
  if (wide) return regs[`r${wide[1]}` as keyof Regs];
  for (const [names, mask] of [[GPR64, -1n], [GPR32, 0xffff_ffffn], [GPR16, 0xffffn]] as const) {
    const i = (names as readonly string[]).indexOf(name);
    if (i >= 0) return mask < 0n ? regs[GPR64[i]!] : regs[GPR64[i]!] & mask;
  }
  return undefined;
}

/** The guest-physical address of a memory operand, with the registers as they are now. */
function operandAddress(operand: MemoryOperand, instruction: DecodedInstruction, regs: Regs, sregs: Sregs, memory: GuestMemory): bigint | undefined {
  const nextIp = instruction.ip + BigInt(instruction.length);
  const base = operand.base ? registerValue(operand.base, regs, nextIp) : 0n;
  const index = operand.index ? registerValue(operand.index, regs, nextIp) : 0n;
  if (base === undefined || index === undefined) return undefined;
  const width = BigInt(instruction.addressSize * 8);
  const offset = (base + index * BigInt(operand.scale) + operand.displacement) & ((1n << width) - 1n);
  const segment = sregs[operand.segment as 'es' | 'cs' | 'ss' | 'ds' | 'fs' | 'gs'];
  const longMode = bitnessOf(sregs) === 64;
  const segmentBase = !segment || (longMode && operand.segment !== 'fs' && operand.segment !== 'gs') ? 0n : segment.base;
  const linear = longMode ? (segmentBase + offset) & 0xffff_ffff_ffff_ffffn : (segmentBase + offset) & 0xffff_ffffn;
  return translate(memory, sregs, linear);
}

function storesTo(instruction: DecodedInstruction, exit: MmioExit, regs: Regs, sregs: Sregs, memory: GuestMemory): boolean {
  if (instruction.status !== 'ok' || !instruction.memory?.write) return false;
  const operand = instruction.operands.find((o): o is MemoryOperand => o.kind === 'memory');
  return operand !== undefined && operandAddress(operand, instruction, regs, sregs, memory) === exit.address;
}

/** The instruction that made the access, and where it starts. */
function accessingInstruction(exit: MmioExit, regs: Regs, sregs: Sregs, memory: GuestMemory, emulator: Emulator): { ip: bigint; text: string } {
  const bitness = bitnessOf(sregs);
  const rip = regs.rip;
  const at = readGuestCode(memory, sregs, rip, MAX_INSTRUCTION);
  const current = at.length > 0 ? emulator.decodeOne(at, { bitness, ip: rip }) : undefined;
  if (!exit.isWrite) return { ip: rip, text: current ? disassemble(emulator, current) : '(code not mapped)' };
  const before = rip >= BigInt(MAX_INSTRUCTION) ? readGuestCode(memory, sregs, rip - BigInt(MAX_INSTRUCTION), MAX_INSTRUCTION) : new Uint8Array();
  const code = new Uint8Array([...before, ...at]);
  // Best: an encoding that stores exit-sized data to the exit's address; then one of the two.
  let addressed: { ip: bigint; text: string } | undefined;
  let sized: { ip: bigint; text: string } | undefined;
  for (let length = 1; length <= before.length; length++) {
    const ip = rip - BigInt(length);
    const candidate = emulator.decodeOne(code.subarray(before.length - length), { bitness, ip });
    if (candidate.status !== 'ok' || candidate.length !== length || !candidate.memory?.write) continue;
    const sizeFits = candidate.memory.size === exit.data.length;
    if (storesTo(candidate, exit, regs, sregs, memory)) {
      if (sizeFits) return { ip, text: disassemble(emulator, candidate) };
      addressed ??= { ip, text: disassemble(emulator, candidate) };
    }
    // Registers the store itself changed (a string store's RDI) hide its address: the size must do.
    else if (sizeFits) sized ??= { ip, text: disassemble(emulator, candidate) };
  }
  // A REP string store that KVM repeats keeps RIP at itself until the count runs out.
  if (current && storesTo(current, exit, regs, sregs, memory)) return { ip: rip, text: disassemble(emulator, current) };
  return addressed ?? sized ?? { ip: rip, text: '(the instruction before rip is not identified)' };
}

export function traceMmio(exit: MmioExit, vcpu: { getRegs(): Regs; getSregs(): Sregs }, memory: GuestMemory, emulator: Emulator | undefined): string {
  const regs = vcpu.getRegs();
  if (!emulator) return formatMmioAccess(exit, regs.rip, '(the x86 emulator is not loaded)');
  const { ip, text } = accessingInstruction(exit, regs, vcpu.getSregs(), memory, emulator);
  return formatMmioAccess(exit, ip, text);
}
