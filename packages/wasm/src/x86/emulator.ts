// Emulates one x86 instruction against a vCPU's registers, guest RAM and MMIO devices, with
// assembly/x86/emulator.ts doing the work (decode, address translation, execution, flags).
//
// WASM cannot see guest memory, so a run stops at each read it has no value for; this facade reads
// the value (from RAM, or from the device through readMmio), hands it over and runs the instruction
// again, which replays to the same point (see the AssemblyScript file). Writes come back as a log:
// each is performed once, in program order, before the next read is served, so a device sees exactly
// the sequence the CPU would produce. A MOV to or from MMIO with paging off is one crossing; each
// page-table level and each data read adds one.
import { IsolaError } from '@isola/errors';
import { loadWasm } from '../loader.js';
import type { Bitness, DecodedInstruction } from './index.js';
import { readRecord } from './record.js';

/** General registers in the order of their x86 numbers. */
export const GPR_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;
export type GprName = (typeof GPR_NAMES)[number];
/** The shape of @isola/sys Regs: a vCPU's KVM_GET_REGS can be passed as is. */
export type EmulatorRegisters = Record<GprName | 'rip' | 'rflags', bigint>;

export interface EmulatorCpu {
  regs: EmulatorRegisters;
  /** Control registers and EFER (KVM_GET_SREGS); paging is 4-level when CR0.PG and EFER.LMA are set. */
  cr0: bigint;
  cr3: bigint;
  cr4?: bigint;
  efer: bigint;
  /** Segment bases; in 64-bit mode only fs and gs count. Limits are not checked. */
  segmentBases?: Partial<Record<'es' | 'cs' | 'ss' | 'ds' | 'fs' | 'gs', bigint>>;
  /** Current privilege level: 3 applies the user/supervisor page checks. Default 0. */
  cpl?: number;
  /** Default 64 (CS.L); 32 or 16 for protected or real mode code. */
  bitness?: Bitness;
  /** xmm0-xmm15, 16 bytes each (KVM_GET_FPU's xmm): needed for the SSE instructions. */
  xmm?: Uint8Array;
  /** What delivering INT n / INT3 reads (KVM_GET_SREGS: idt, gdt, tr.base, cs.selector, ss.selector). */
  system?: EmulatorSystem;
}

export interface EmulatorSystem {
  idt: { base: bigint; limit: number };
  gdt: { base: bigint; limit: number };
  trBase: bigint;
  cs: number;
  ss: number;
}

export interface GuestBus {
  /** Guest-physical memory from address 0. */
  memory: Uint8Array;
  /** Whether [address, address + size) is device memory; default: it lies at or beyond memory.length. */
  isMmio?(address: bigint, size: number): boolean;
  readMmio(address: bigint, size: number): bigint;
  writeMmio(address: bigint, size: number, value: bigint): void;
}

export interface MemoryAccess {
  direction: 'read' | 'write';
  /** A page-table entry (read during a walk, or written to set accessed/dirty bits). */
  pageTable: boolean;
  mmio: boolean;
  physical: bigint;
  /** The linear address of a data access (0 for page-table entries). */
  linear: bigint;
  size: number;
  value: bigint;
}

/** An interrupt delivered through the IDT: the selectors (and CPL) the vCPU must now have. */
export interface DeliveredInterrupt {
  vector: number;
  cs: number;
  ss: number;
  cpl: number;
}

export type EmulationResult =
  /**
   * Executed: regs holds the new registers (RIP unchanged while a REP string instruction has elements
   * left); xmm the new xmm registers when cpu.xmm was given; interrupt what INT n / INT3 delivered.
   */
  | { kind: 'ok'; regs: EmulatorRegisters; instruction: DecodedInstruction; accesses: MemoryAccess[]; xmm?: Uint8Array; interrupt?: DeliveredInterrupt }
  /** Another exception to inject instead (#UD, #NM, #GP for a misaligned SSE operand or a bad gate...); nothing was written. */
  | { kind: 'exception'; vector: number; errorCode: number | null; instruction: DecodedInstruction }
  /** #PF to inject: CR2 and the error code (P, W/R, U/S bits); nothing was written but A bits. */
  | { kind: 'page-fault'; address: bigint; errorCode: number; instruction: DecodedInstruction; accesses: MemoryAccess[] }
  /** #GP(0) to inject: a non-canonical address. */
  | { kind: 'general-protection'; instruction: DecodedInstruction }
  /** An instruction (or a paging mode) this emulator does not execute: the hypervisor must handle it. */
  | { kind: 'unsupported'; instruction: DecodedInstruction }
  | { kind: 'invalid'; instruction: DecodedInstruction };

interface EmulatorExports {
  emulate(block: number): number;
  emulatorBlockSize(): number;
  padding(): number;
}

// Offsets in the block, as assembly/x86/emulator.ts lays it out (keep the two in step).
const E_REGS = 0;
const E_RIP = 128;
const E_RFLAGS = 136;
const E_CR0 = 144;
const E_CR3 = 152;
const E_CR4 = 160;
const E_EFER = 168;
const E_SEGBASE = 176;
const E_CPL = 224;
const E_BITS = 228;
const E_INPUT = 256;
const E_CODE_LENGTH = 492;
const E_CODE = 496;
const E_RECORD = 640;
const E_ANSWER_COUNT = 696;
const E_REQUEST_ADDRESS = 704;
const E_REQUEST_SIZE = 712;
const E_LOG_COUNT = 720;
const E_ANSWERS = 768;
const MAX_ANSWERS = 512;
const E_LOG = E_ANSWERS + MAX_ANSWERS * 8;
const LOG_SIZE = 32;
const E_EXT = E_LOG + 1024 * LOG_SIZE;
const E_XMM = E_EXT;
const E_XMM_IN = E_EXT + 256;
const E_IDT_BASE = E_EXT + 512;
const E_IDT_LIMIT = E_EXT + 520;
const E_GDT_BASE = E_EXT + 528;
const E_GDT_LIMIT = E_EXT + 536;
const E_TR_BASE = E_EXT + 544;
const E_CS = E_EXT + 552;
const E_SS = E_EXT + 554;
const E_CS_OUT = E_EXT + 556;
const E_SS_OUT = E_EXT + 558;
const E_VECTOR = E_EXT + 560;
const E_ERROR_CODE = E_EXT + 564;
const E_SYSTEM = E_EXT + 568;
const NONE = 0xffff_ffff;

const STATUS = ['ok', 'need-read', 'page-fault', 'general-protection', 'unsupported', 'invalid', 'log-full', 'exception'] as const;
const SEGMENTS = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;

function readLe(bytes: Uint8Array, at: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]!);
  return v;
}

function writeLe(bytes: Uint8Array, at: number, size: number, value: bigint): void {
  for (let i = 0; i < size; i++) bytes[at + i] = Number((value >> BigInt(8 * i)) & 0xffn);
}

/**
 * Executes the instruction in `bytes` (at cpu.regs.rip) against cpu and bus, performing its memory
 * accesses on bus, and returns the registers after it. cpu is not modified.
 */
export function emulate(bytes: Uint8Array, cpu: EmulatorCpu, bus: GuestBus): EmulationResult {
  const wasm = loadWasm<EmulatorExports>('x86');
  const block = wasm.heapBase;
  const size = wasm.exports.emulatorBlockSize();
  let view = new DataView(wasm.reserve(size).buffer, block, size);
  const u64 = (at: number, v: bigint) => view.setBigUint64(at, BigInt.asUintN(64, v), true);
  GPR_NAMES.forEach((name, i) => u64(E_INPUT + E_REGS + 8 * i, cpu.regs[name]));
  u64(E_INPUT + E_RIP, cpu.regs.rip);
  u64(E_INPUT + E_RFLAGS, cpu.regs.rflags);
  u64(E_INPUT + E_CR0, cpu.cr0);
  u64(E_INPUT + E_CR3, cpu.cr3);
  u64(E_INPUT + E_CR4, cpu.cr4 ?? 0n);
  u64(E_INPUT + E_EFER, cpu.efer);
  SEGMENTS.forEach((name, i) => u64(E_INPUT + E_SEGBASE + 8 * i, cpu.segmentBases?.[name] ?? 0n));
  view.setUint32(E_INPUT + E_CPL, cpu.cpl ?? 0, true);
  view.setUint32(E_INPUT + E_BITS, cpu.bitness ?? 64, true);
  new Uint8Array(view.buffer, block + E_XMM_IN, 256).set(cpu.xmm?.subarray(0, 256) ?? new Uint8Array(256));
  const system = cpu.system;
  view.setUint32(E_SYSTEM, system ? 1 : 0, true);
  u64(E_IDT_BASE, system?.idt.base ?? 0n);
  view.setUint32(E_IDT_LIMIT, system?.idt.limit ?? 0, true);
  u64(E_GDT_BASE, system?.gdt.base ?? 0n);
  view.setUint32(E_GDT_LIMIT, system?.gdt.limit ?? 0, true);
  u64(E_TR_BASE, system?.trBase ?? 0n);
  view.setUint16(E_CS, system?.cs ?? 0, true);
  view.setUint16(E_SS, system?.ss ?? 0, true);
  const length = Math.min(bytes.length, 15);
  view.setUint32(E_CODE_LENGTH, length, true);
  for (let i = 0; i < 16 + wasm.exports.padding(); i++) view.setUint8(E_CODE + i, i < length ? bytes[i]! : 0);
  view.setUint32(E_ANSWER_COUNT, 0, true);

  const isMmio = bus.isMmio ?? ((address: bigint, n: number) => address + BigInt(n) > BigInt(bus.memory.length));
  const accesses: MemoryAccess[] = [];
  let performed = 0; // log entries already performed (writes) or recorded (reads)
  let answers = 0;
  // Performs the log entries a run added past `performed`: its replayed prefix was done before.
  const perform = (onlyPageTables = false) => {
    const count = view.getUint32(E_LOG_COUNT, true);
    for (; performed < count; performed++) {
      const at = E_LOG + performed * LOG_SIZE;
      const access: MemoryAccess = {
        direction: view.getUint8(at) ? 'write' : 'read',
        pageTable: view.getUint8(at + 1) !== 0,
        mmio: false,
        physical: view.getBigUint64(at + 8, true),
        linear: view.getBigUint64(at + 24, true),
        size: view.getUint8(at + 2),
        value: view.getBigUint64(at + 16, true),
      };
      access.mmio = isMmio(access.physical, access.size);
      if (onlyPageTables && !access.pageTable) continue;
      // Reads were served when the run asked for them; the entry carries the value.
      if (access.direction === 'write') {
        if (access.mmio) bus.writeMmio(access.physical, access.size, access.value);
        else writeLe(bus.memory, Number(access.physical), access.size, access.value);
      }
      accesses.push(access);
    }
  };

  for (;;) {
    const status = STATUS[wasm.exports.emulate(block)] ?? 'invalid';
    view = new DataView(wasm.reserve(0).buffer, block, size);
    const instruction = readRecord(view, E_RECORD, cpu.regs.rip, cpu.bitness ?? 64);
    if (status === 'need-read') {
      perform();
      const address = view.getBigUint64(E_REQUEST_ADDRESS, true);
      const n = view.getUint32(E_REQUEST_SIZE, true);
      const value = isMmio(address, n) ? BigInt.asUintN(8 * n, bus.readMmio(address, n)) : readLe(bus.memory, Number(address), n);
      if (answers >= MAX_ANSWERS) throw new IsolaError('EX86_EMULATE', `x86 emulation of ${instruction.mnemonic}: more than ${MAX_ANSWERS} reads`);
      view.setBigUint64(E_ANSWERS + 8 * answers, value, true);
      view.setUint32(E_ANSWER_COUNT, ++answers, true);
      continue;
    }
    switch (status) {
      case 'ok': {
        perform();
        const regs = {} as EmulatorRegisters;
        GPR_NAMES.forEach((name, i) => (regs[name] = view.getBigUint64(E_REGS + 8 * i, true)));
        regs.rip = view.getBigUint64(E_RIP, true);
        regs.rflags = view.getBigUint64(E_RFLAGS, true);
        const result: EmulationResult = { kind: 'ok', regs, instruction, accesses };
        if (cpu.xmm) result.xmm = new Uint8Array(view.buffer, block + E_XMM, 256).slice();
        const vector = view.getUint32(E_VECTOR, true);
        if (vector !== NONE) {
          const cs = view.getUint16(E_CS_OUT, true);
          result.interrupt = { vector, cs, ss: view.getUint16(E_SS_OUT, true), cpl: cs & 3 };
        }
        return result;
      }
      case 'exception': {
        const code = view.getUint32(E_ERROR_CODE, true);
        return { kind: 'exception', vector: view.getUint32(E_VECTOR, true), errorCode: code === NONE ? null : code, instruction };
      }
      case 'page-fault':
        perform(true); // only the accessed bits set on the way, as the CPU sets them
        return { kind: 'page-fault', address: view.getBigUint64(E_REQUEST_ADDRESS, true), errorCode: view.getUint32(E_REQUEST_SIZE, true), instruction, accesses };
      case 'general-protection':
        return { kind: 'general-protection', instruction };
      case 'unsupported':
        return { kind: 'unsupported', instruction };
      case 'invalid':
        return { kind: 'invalid', instruction };
      default:
        throw new IsolaError('EX86_EMULATE', `x86 emulation of ${instruction.mnemonic}: the access log is full`);
    }
  }
}
