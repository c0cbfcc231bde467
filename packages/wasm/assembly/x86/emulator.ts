// Executes one instruction the way the CPU would, for the forms guests use on device memory (MOV,
// MOVZX/MOVSX, MOVS/STOS with REP, the ALU group with a memory operand, XCHG, CMPXCHG, BT*), against
// the register file in the block at `st` (layout below, mirrored by src/x86/emulator.ts).
//
// WASM cannot reach guest memory, so every read (page-table entries included) is a request: a run
// that needs a value it has not been given stops with EMU_NEED_READ and the address; the facade
// reads it (RAM or the device), appends the value to the answers and runs the instruction again
// from the start. A run is a pure function of (registers, bytes, answers), so the replay takes the
// same path up to the new read. Writes are logged in program order, never performed here; the
// facade performs each one once, before answering the next read, so devices see program order.
import { decodeOne } from './decoder';
import * as T from './tables';
import * as R from './registers';
import * as O from './record';
import { executeSse, isSse } from './sse';
import { deliver } from './interrupt';

// ---- the block at st ----
export const E_REGS: u32 = 0; // u64 x 16, rax..r15 (working copy; the result)
export const E_RIP: u32 = 128;
export const E_RFLAGS: u32 = 136;
export const E_CR0: u32 = 144;
export const E_CR3: u32 = 152;
export const E_CR4: u32 = 160;
export const E_EFER: u32 = 168;
export const E_SEGBASE: u32 = 176; // u64 x 6: es, cs, ss, ds, fs, gs
export const E_CPL: u32 = 224; // u32
export const E_BITS: u32 = 228; // u32: 16, 32, 64
export const E_STATE_SIZE: u32 = 232; // the part above is copied from E_INPUT at the start of each run
export const E_INPUT: u32 = 256; // the caller's registers, same layout, never modified
export const E_CODE_LENGTH: u32 = 492; // u32
export const E_CODE: u32 = 496; // 16 bytes of instruction, then the decoder's padding
export const E_RECORD: u32 = 640; // the decoded instruction (record.ts)
export const E_ANSWER_COUNT: u32 = 696; // u32
export const E_STATUS: u32 = 700; // u32, EMU_*
export const E_REQUEST_ADDRESS: u32 = 704; // u64: NEED_READ: physical address; PAGE_FAULT: CR2
export const E_REQUEST_SIZE: u32 = 712; // u32: NEED_READ: bytes; PAGE_FAULT: error code
export const E_REQUEST_PTE: u32 = 716; // u32: 1 when the read is a page-table entry
export const E_LOG_COUNT: u32 = 720; // u32
export const E_ANSWERS: u32 = 768; // u64 x MAX_ANSWERS
export const MAX_ANSWERS: u32 = 512;
export const E_LOG: u32 = E_ANSWERS + MAX_ANSWERS * 8; // LOG_SIZE-byte entries
export const LOG_SIZE: u32 = 32; // u8 write, u8 pte, u8 size, pad, u32 pad, u64 physical, u64 value, u64 linear
export const MAX_LOG: u32 = 1024;
// SSE state and what interrupt delivery reads, after the log.
export const E_EXT: u32 = E_LOG + MAX_LOG * LOG_SIZE;
export const E_XMM: u32 = E_EXT; // 16 x 16 bytes, xmm0..xmm15 (working copy; the result)
export const E_XMM_IN: u32 = E_EXT + 256; // the caller's, never modified
export const E_IDT_BASE: u32 = E_EXT + 512; // u64
export const E_IDT_LIMIT: u32 = E_EXT + 520; // u32
export const E_GDT_BASE: u32 = E_EXT + 528; // u64
export const E_GDT_LIMIT: u32 = E_EXT + 536; // u32
export const E_TR_BASE: u32 = E_EXT + 544; // u64, the 64-bit TSS (RSP0-2, IST1-7)
export const E_CS: u32 = E_EXT + 552; // u16 selectors in, then the ones after delivery
export const E_SS: u32 = E_EXT + 554;
export const E_CS_OUT: u32 = E_EXT + 556;
export const E_SS_OUT: u32 = E_EXT + 558;
export const E_VECTOR: u32 = E_EXT + 560; // u32: EXCEPTION: the vector; OK: the interrupt delivered (or 0xffffffff)
export const E_ERROR_CODE: u32 = E_EXT + 564; // u32: EXCEPTION: the error code (0xffffffff: none)
export const E_SYSTEM: u32 = E_EXT + 568; // u32: 1 when the descriptor tables, TR and selectors are given
export const E_BLOCK_SIZE: u32 = E_EXT + 576;

export const EMU_OK: u32 = 0;
export const EMU_NEED_READ: u32 = 1;
export const EMU_PAGE_FAULT: u32 = 2;
export const EMU_GP: u32 = 3; // #GP(0): non-canonical address
export const EMU_UNSUPPORTED: u32 = 4; // an instruction or paging mode this emulator does not execute
export const EMU_INVALID: u32 = 5; // the bytes do not decode
export const EMU_LOG_FULL: u32 = 6;
export const EMU_EXCEPTION: u32 = 7; // another exception to inject: vector and error code at E_VECTOR

// String instructions run at most this many iterations per call (then RIP stays, as on an interrupt).
const MAX_STRING_ITERATIONS: u32 = 64;

export const CF: u64 = 1, PF: u64 = 4, AF: u64 = 0x10, ZF: u64 = 0x40, SF: u64 = 0x80, DF: u64 = 0x400, OF: u64 = 0x800;
const ARITH_FLAGS: u64 = CF | PF | AF | ZF | SF | OF;

export let st: usize = 0;
let answerIndex: u32 = 0;
export let stopped: u32 = EMU_OK; // set by a read without an answer, a fault or a full log

// ---- registers ----

// @ts-ignore: decorator
@inline function gpr(n: u32): u64 {
  return load<u64>(st + (<usize>n << 3));
}

// @ts-ignore: decorator
@inline function setGpr(n: u32, v: u64): void {
  store<u64>(st + (<usize>n << 3), v);
}

function regSize(id: u32): u32 {
  return id < R.R_AX ? 1 : id < R.R_EAX ? 2 : id < R.R_RAX ? 4 : 8;
}

export function readReg(id: u32): u64 {
  if (id >= R.R_RAX) return gpr(id - R.R_RAX);
  if (id >= R.R_EAX) return gpr(id - R.R_EAX) & 0xffffffff;
  if (id >= R.R_AX) return gpr(id - R.R_AX) & 0xffff;
  if (id >= R.R_SPL) return gpr(id - R.R_SPL + 4) & 0xff;
  if (id >= R.R_AL + 4) return (gpr(id - R.R_AL - 4) >> 8) & 0xff; // ah, ch, dh, bh
  return gpr(id - R.R_AL) & 0xff;
}

/** Writes as the CPU does: 32-bit results zero-extend, 8- and 16-bit ones merge. */
export function writeReg(id: u32, v: u64): void {
  if (id >= R.R_RAX) setGpr(id - R.R_RAX, v);
  else if (id >= R.R_EAX) setGpr(id - R.R_EAX, v & 0xffffffff);
  else if (id >= R.R_AX) store<u16>(st + (<usize>(id - R.R_AX) << 3), <u16>v);
  else if (id >= R.R_SPL) store<u8>(st + (<usize>(id - R.R_SPL + 4) << 3), <u8>v);
  else if (id >= R.R_AL + 4) store<u8>(st + (<usize>(id - R.R_AL - 4) << 3) + 1, <u8>v);
  else store<u8>(st + (<usize>(id - R.R_AL) << 3), <u8>v);
}

// @ts-ignore: decorator
@inline function mask(size: u32): u64 {
  return size >= 8 ? <u64>-1 : (<u64>1 << (<u64>size * 8)) - 1;
}

// ---- flags ----

function parity(v: u64): bool {
  return (popcnt<u32>(<u32>v & 0xff) & 1) == 0;
}

export function setFlags(flags: u64, which: u64): void {
  store<u64>(st, (load<u64>(st, E_RFLAGS) & ~which) | (flags & which), E_RFLAGS);
}

/** SF, ZF and PF of a result. */
function resultFlags(r: u64, size: u32): u64 {
  const m = mask(size);
  const sign = <u64>1 << (<u64>size * 8 - 1);
  let f: u64 = 0;
  if ((r & sign) != 0) f |= SF;
  if ((r & m) == 0) f |= ZF;
  if (parity(r)) f |= PF;
  return f;
}

const OP_ADD: u32 = 0, OP_OR: u32 = 1, OP_ADC: u32 = 2, OP_SBB: u32 = 3, OP_AND: u32 = 4, OP_SUB: u32 = 5, OP_XOR: u32 = 6;

/** a op b at size bytes; sets the six arithmetic flags as the CPU does; returns the result. */
function alu(op: u32, a: u64, b: u64, size: u32): u64 {
  const m = mask(size);
  const sign = <u64>1 << (<u64>size * 8 - 1);
  a &= m;
  b &= m;
  const carryIn: u64 = load<u64>(st, E_RFLAGS) & CF;
  let r: u64 = 0;
  let f: u64 = 0;
  if (op == OP_ADD || op == OP_ADC) {
    const c = op == OP_ADC ? carryIn : 0;
    r = (a + b + c) & m;
    if (r < a || (c != 0 && r == a)) f |= CF;
    if (((a ^ r) & (b ^ r) & sign) != 0) f |= OF;
    if (((a ^ b ^ r) & 0x10) != 0) f |= AF;
  } else if (op == OP_SUB || op == OP_SBB) {
    const c = op == OP_SBB ? carryIn : 0;
    r = (a - b - c) & m;
    if (a < b || (c != 0 && a == b)) f |= CF;
    if (((a ^ b) & (a ^ r) & sign) != 0) f |= OF;
    if (((a ^ b ^ r) & 0x10) != 0) f |= AF;
  } else {
    r = op == OP_AND ? a & b : op == OP_OR ? a | b : a ^ b;
  }
  setFlags(f | resultFlags(r, size), ARITH_FLAGS);
  return r;
}

// ---- memory ----

export function stop(status: u32): void {
  if (stopped == EMU_OK) stopped = status;
}

/** Stops with an exception to inject (errorCode 0xffffffff: the vector has none). */
export function raise(vector: u32, errorCode: u32): void {
  if (stopped != EMU_OK) return;
  store<u32>(st, vector, E_VECTOR);
  store<u32>(st, errorCode, E_ERROR_CODE);
  stopped = EMU_EXCEPTION;
}

function log(write: bool, pte: bool, physical: u64, size: u32, value: u64, linear: u64): void {
  const n = load<u32>(st, E_LOG_COUNT);
  if (n >= MAX_LOG) {
    stop(EMU_LOG_FULL);
    return;
  }
  const e = st + E_LOG + <usize>n * LOG_SIZE;
  store<u8>(e, write ? 1 : 0);
  store<u8>(e, pte ? 1 : 0, 1);
  store<u8>(e, <u8>size, 2);
  store<u64>(e, physical, 8);
  store<u64>(e, value & mask(size), 16);
  store<u64>(e, linear, 24);
  store<u32>(st, n + 1, E_LOG_COUNT);
}

/** A physical read: the next answer, or a request for it (then 0, and the run stops). */
function readPhysical(physical: u64, size: u32, pte: bool, linear: u64): u64 {
  if (stopped != EMU_OK) return 0;
  if (answerIndex >= load<u32>(st, E_ANSWER_COUNT)) {
    if (answerIndex >= MAX_ANSWERS) {
      stop(EMU_LOG_FULL);
      return 0;
    }
    store<u64>(st, physical, E_REQUEST_ADDRESS);
    store<u32>(st, size, E_REQUEST_SIZE);
    store<u32>(st, pte ? 1 : 0, E_REQUEST_PTE);
    stop(EMU_NEED_READ);
    return 0;
  }
  const v = load<u64>(st + E_ANSWERS + (<usize>answerIndex << 3)) & mask(size);
  answerIndex++;
  log(false, pte, physical, size, v, linear);
  return v;
}

function writePhysical(physical: u64, size: u32, value: u64, pte: bool, linear: u64): void {
  if (stopped != EMU_OK) return;
  log(true, pte, physical, size, value, linear);
}

const PTE_P: u64 = 1, PTE_W: u64 = 2, PTE_U: u64 = 4, PTE_A: u64 = 0x20, PTE_D: u64 = 0x40, PTE_PS: u64 = 0x80;
const ADDR_MASK: u64 = 0x000ffffffffff000;
const CR0_PG: u64 = 1 << 31, CR0_WP: u64 = 1 << 16;
const EFER_LMA: u64 = 1 << 10;
const PF_P: u32 = 1, PF_W: u32 = 2, PF_U: u32 = 4;

// Translations made during this run, as a TLB would hold them: a REP string instruction walks the
// tables once per page, not once per element. Key: linear page | 1 when allowed (and dirtied) for writes.
const TLB_SIZE: u32 = 8;
const tlbKeys = memory.data(TLB_SIZE * 8);
const tlbPages = memory.data(TLB_SIZE * 8);
let tlbCount: u32 = 0;

function translate(linear: u64, write: bool): u64 {
  if (stopped != EMU_OK) return 0;
  const page = linear & ~<u64>0xfff;
  for (let i: u32 = 0; i < tlbCount; i++) {
    const key = load<u64>(tlbKeys + (<usize>i << 3));
    if ((key & ~<u64>1) == page && (!write || (key & 1) != 0)) return load<u64>(tlbPages + (<usize>i << 3)) | (linear & 0xfff);
  }
  const physical = walk(linear, write);
  if (stopped == EMU_OK) {
    const slot = tlbCount < TLB_SIZE ? tlbCount++ : 0;
    store<u64>(tlbKeys + (<usize>slot << 3), page | (write ? 1 : 0));
    store<u64>(tlbPages + (<usize>slot << 3), physical & ~<u64>0xfff);
  }
  return physical;
}

/** The physical address of linear, or (after stop) 0: walks the 4-level tables, sets A and D. */
function walk(linear: u64, write: bool): u64 {
  const cr0 = load<u64>(st, E_CR0);
  if ((cr0 & CR0_PG) == 0) return load<u32>(st, E_BITS) == 64 ? linear : linear & 0xffffffff;
  if ((load<u64>(st, E_EFER) & EFER_LMA) == 0) {
    stop(EMU_UNSUPPORTED); // 32-bit and PAE paging
    return 0;
  }
  if (<u64>((<i64>(linear << 16)) >> 16) != linear) {
    stop(EMU_GP);
    return 0;
  }
  const user = load<u32>(st, E_CPL) == 3;
  let table = load<u64>(st, E_CR3) & ADDR_MASK;
  let allowUser = true, allowWrite = true;
  let shift: u64 = 39;
  // Entries along the walk, for the A/D update once the access is allowed.
  let e0: u64 = 0, e1: u64 = 0, e2: u64 = 0, e3: u64 = 0;
  let a0: u64 = 0, a1: u64 = 0, a2: u64 = 0, a3: u64 = 0;
  let level: u32 = 0;
  let physical: u64 = 0;
  while (true) {
    const at = table + (((linear >> shift) & 511) << 3);
    const e = readPhysical(at, 8, true, 0);
    if (stopped != EMU_OK) return 0;
    if (level == 0) { e0 = e; a0 = at; } else if (level == 1) { e1 = e; a1 = at; } else if (level == 2) { e2 = e; a2 = at; } else { e3 = e; a3 = at; }
    if ((e & PTE_P) == 0) return fault(linear, write, user, false);
    allowUser = allowUser && (e & PTE_U) != 0;
    allowWrite = allowWrite && (e & PTE_W) != 0;
    const large = (e & PTE_PS) != 0 && (shift == 30 || shift == 21);
    if (shift == 12 || large) {
      const pageMask: u64 = (<u64>1 << shift) - 1;
      physical = (e & ADDR_MASK & ~pageMask) | (linear & pageMask);
      break;
    }
    table = e & ADDR_MASK;
    shift -= 9;
    level++;
  }
  if (user && !allowUser) return fault(linear, write, user, true);
  if (write && !allowWrite && (user || (cr0 & CR0_WP) != 0)) return fault(linear, write, user, true);
  // Accessed on every level, dirty on the leaf for a write, as the CPU does.
  for (let l: u32 = 0; l <= level; l++) {
    const e = l == 0 ? e0 : l == 1 ? e1 : l == 2 ? e2 : e3;
    const a = l == 0 ? a0 : l == 1 ? a1 : l == 2 ? a2 : a3;
    let updated = e | PTE_A;
    if (l == level && write) updated |= PTE_D;
    if (updated != e) writePhysical(a, 8, updated, true, 0);
  }
  return physical;
}

function fault(linear: u64, write: bool, user: bool, present: bool): u64 {
  store<u64>(st, linear, E_REQUEST_ADDRESS);
  store<u32>(st, (present ? PF_P : 0) | (write ? PF_W : 0) | (user ? PF_U : 0), E_REQUEST_SIZE);
  stop(EMU_PAGE_FAULT);
  return 0;
}

/** Both pages of an access are translated before either is touched, so a fault leaves no trace. */
export function readLinear(linear: u64, size: u32): u64 {
  const first = min<u64>(<u64>size, 0x1000 - (linear & 0xfff));
  const p0 = translate(linear, false);
  const p1 = first < <u64>size ? translate(linear + first, false) : 0;
  if (stopped != EMU_OK) return 0;
  if (first == <u64>size) return readPhysical(p0, size, false, linear);
  const lo = readPhysical(p0, <u32>first, false, linear);
  const hi = readPhysical(p1, size - <u32>first, false, linear + first);
  return lo | (hi << (first * 8));
}

export function writeLinear(linear: u64, size: u32, value: u64): void {
  const first = min<u64>(<u64>size, 0x1000 - (linear & 0xfff));
  const p0 = translate(linear, true);
  const p1 = first < <u64>size ? translate(linear + first, true) : 0;
  if (stopped != EMU_OK) return;
  if (first == <u64>size) {
    writePhysical(p0, size, value, false, linear);
    return;
  }
  writePhysical(p0, <u32>first, value, false, linear);
  writePhysical(p1, size - <u32>first, value >> (first * 8), false, linear + first);
}

/** Translates both pages of an access for a write without writing (a string step checks first). */
export function probe(linear: u64, size: u32, write: bool): void {
  const first = min<u64>(<u64>size, 0x1000 - (linear & 0xfff));
  translate(linear, write);
  if (first < <u64>size) translate(linear + first, write);
}

// ---- operands ----

export let rec: usize = 0;
export let nextRip: u64 = 0;

// @ts-ignore: decorator
@inline export function kind(i: u32): u32 {
  return <u32>load<u8>(rec + i, O.O_KINDS);
}

// @ts-ignore: decorator
@inline export function regOf(i: u32): u32 {
  return <u32>load<u8>(rec + i, O.O_REGISTERS);
}

function addressMask(): u64 {
  const asz = <u32>load<u8>(rec, O.O_ADDRESS_SIZE);
  return mask(asz);
}

export function segmentBase(segment: u32): u64 {
  const n = segment - R.R_ES;
  // In 64-bit mode only FS and GS have a base.
  if (load<u32>(st, E_BITS) == 64 && n < 4) return 0;
  return load<u64>(st + E_SEGBASE + (<usize>n << 3));
}

/** The linear address of the record's memory operand. */
function effectiveAddress(): u64 {
  const base = <u32>load<u8>(rec, O.O_BASE);
  const index = <u32>load<u8>(rec, O.O_INDEX);
  let ea = <u64>load<i64>(rec, O.O_DISPLACEMENT);
  if (base == R.R_RIP || base == R.R_EIP) ea += nextRip;
  else if (base != 0) ea += readReg(base);
  if (index != 0) ea += readReg(index) * <u64>load<u8>(rec, O.O_SCALE);
  ea &= addressMask();
  return ea + segmentBase(<u32>load<u8>(rec, O.O_SEGMENT));
}

/** Operand i's value: a register, the immediate, or (memory at la) a read of size bytes. */
function operandValue(i: u32, la: u64, size: u32): u64 {
  const k = kind(i);
  if (k == O.OK_REGISTER) return readReg(regOf(i));
  if (k == O.OK_IMMEDIATE) return load<u64>(rec, O.O_IMMEDIATE) & mask(size);
  if (k == O.OK_MEMORY) return readLinear(la, size);
  return 0;
}

function memoryIndex(): i32 {
  const n = min(<u32>load<u8>(rec, O.O_OPERAND_COUNT), 4); // a fifth operand is never memory
  for (let i: u32 = 0; i < n; i++) if (kind(i) == O.OK_MEMORY) return i;
  return -1;
}

// ---- the instructions ----

/** Runs the instruction in the block at block; returns EMU_* (also stored at E_STATUS). */
export function emulate(block: usize): u32 {
  st = block;
  memory.copy(st, st + E_INPUT, E_STATE_SIZE);
  memory.copy(st + E_XMM, st + E_XMM_IN, 256);
  store<u16>(st, load<u16>(st, E_CS), E_CS_OUT);
  store<u16>(st, load<u16>(st, E_SS), E_SS_OUT);
  store<u32>(st, 0xffffffff, E_VECTOR);
  store<u32>(st, 0, E_LOG_COUNT);
  answerIndex = 0;
  stopped = EMU_OK;
  tlbCount = 0;
  rec = st + E_RECORD;
  const bits = load<u32>(st, E_BITS);
  const rip = load<u64>(st, E_RIP);
  const codeLength = load<u32>(st, E_CODE_LENGTH);
  const length = decodeOne(st + E_CODE, st + E_CODE + codeLength, bits, rip, rec);
  if (load<u8>(rec, O.O_STATUS) != O.ST_OK) return finishRun(EMU_INVALID);
  nextRip = rip + <u64>length;
  if (bits != 64) nextRip &= 0xffffffff;
  let advance = execute();
  if (stopped != EMU_OK) return finishRun(stopped);
  if (advance) store<u64>(st, nextRip, E_RIP);
  return finishRun(EMU_OK);
}

function finishRun(status: u32): u32 {
  store<u32>(st, status, E_STATUS);
  return status;
}

/** Executes the decoded record; returns whether RIP moves on (false: a string instruction resumes). */
function execute(): bool {
  const mn = <u32>load<u16>(rec, O.O_MNEMONIC);
  const m = memoryIndex();
  const memSize = <u32>load<u16>(rec, O.O_MEMORY_SIZE);
  const la = m >= 0 ? effectiveAddress() : 0;
  if (isSse(mn)) return executeSse(mn, m, la, memSize);
  switch (mn) {
    case T.MN_INT3: return deliver(3, true);
    case T.MN_INT: return deliver(<u32>load<u8>(rec, O.O_IMMEDIATE), true);
    case T.MN_MOV: {
      if (m < 0 || kind(0) == O.OK_REGISTER && regOf(0) >= R.R_ES || kind(1) == O.OK_REGISTER && regOf(1) >= R.R_ES) break;
      if (m == 0) writeLinear(la, memSize, operandValue(1, 0, memSize));
      else writeReg(regOf(0), readLinear(la, memSize));
      return true;
    }
    case T.MN_MOVZX: case T.MN_MOVSX: case T.MN_MOVSXD: {
      if (m != 1) break;
      let v = readLinear(la, memSize);
      if (mn != T.MN_MOVZX) {
        const shift = <u64>(64 - memSize * 8);
        v = <u64>((<i64>(v << shift)) >> shift);
      }
      writeReg(regOf(0), v & mask(regSize(regOf(0))));
      return true;
    }
    case T.MN_ADD: case T.MN_OR: case T.MN_ADC: case T.MN_SBB: case T.MN_AND: case T.MN_SUB: case T.MN_XOR: case T.MN_CMP: case T.MN_TEST: {
      if (m < 0) break;
      const op = mn == T.MN_ADD ? OP_ADD : mn == T.MN_OR ? OP_OR : mn == T.MN_ADC ? OP_ADC : mn == T.MN_SBB ? OP_SBB
        : mn == T.MN_AND || mn == T.MN_TEST ? OP_AND : mn == T.MN_XOR ? OP_XOR : OP_SUB;
      const a = operandValue(0, la, memSize);
      const b = operandValue(1, la, memSize);
      if (stopped != EMU_OK) return false;
      const r = alu(op, a, b, memSize);
      if (mn == T.MN_CMP || mn == T.MN_TEST) return true;
      if (m == 0) writeLinear(la, memSize, r);
      else writeReg(regOf(0), r);
      return true;
    }
    case T.MN_XCHG: {
      if (m < 0) break;
      const reg = regOf(m == 0 ? 1 : 0);
      const v = readLinear(la, memSize);
      const old = readReg(reg);
      writeLinear(la, memSize, old);
      if (stopped == EMU_OK) writeReg(reg, v);
      return true;
    }
    case T.MN_CMPXCHG: {
      if (m != 0) break;
      const acc = R.gpr(memSize, 0, false);
      const a = readReg(acc);
      const d = readLinear(la, memSize);
      if (stopped != EMU_OK) return false;
      alu(OP_SUB, a, d, memSize);
      // On a mismatch the accumulator is loaded and memory is written back with its own value (the
      // CPU's locked write cycle; KVM reports it as an MMIO write too).
      if (a == d) writeLinear(la, memSize, readReg(regOf(1)));
      else {
        writeLinear(la, memSize, d);
        writeReg(acc, d);
      }
      return true;
    }
    case T.MN_CMPXCHG8B: case T.MN_CMPXCHG16B: {
      if (m != 0) break;
      // CMPXCHG8B is one 8-byte access, as KVM makes it; CMPXCHG16B two (no MMIO access is wider),
      // on a 16-byte aligned operand or #GP(0).
      const half = memSize / 2;
      if (half == 8 && (la & 15) != 0) {
        raise(13, 0);
        return false;
      }
      let lo: u64, hi: u64;
      if (half == 4) {
        const v = readLinear(la, 8);
        lo = v & 0xffffffff;
        hi = v >> 32;
      } else {
        lo = readLinear(la, 8);
        hi = readLinear(la + 8, 8);
      }
      if (stopped != EMU_OK) return false;
      const hm = mask(half);
      const equal = lo == (gpr(0) & hm) && hi == (gpr(2) & hm);
      const newLo = equal ? gpr(3) & hm : lo, newHi = equal ? gpr(1) & hm : hi;
      if (half == 4) writeLinear(la, 8, newLo | (newHi << 32));
      else {
        writeLinear(la, 8, newLo);
        writeLinear(la + 8, 8, newHi);
      }
      if (stopped != EMU_OK) return false;
      if (equal) setFlags(ZF, ZF);
      else {
        writeReg(half == 8 ? R.R_RAX : R.R_EAX, lo);
        writeReg(half == 8 ? R.R_RAX + R.N_DX : R.R_EAX + R.N_DX, hi);
        setFlags(0, ZF);
      }
      return true;
    }
    case T.MN_BT: case T.MN_BTS: case T.MN_BTR: case T.MN_BTC: {
      if (m != 0) break;
      const bits = memSize * 8;
      let address = la;
      let bit: u64;
      if (kind(1) == O.OK_IMMEDIATE) bit = load<u64>(rec, O.O_IMMEDIATE) & <u64>(bits - 1);
      else {
        // A register bit offset is signed and may reach outside the operand.
        const regId = regOf(1);
        const size = regSize(regId);
        const shift = <u64>(64 - size * 8);
        const offset = (<i64>(readReg(regId) << shift)) >> shift;
        address += <u64>((offset >> <i64>(ctz(bits))) * <i64>memSize);
        bit = <u64>offset & <u64>(bits - 1);
      }
      const v = readLinear(address, memSize);
      if (stopped != EMU_OK) return false;
      const set = ((v >> bit) & 1) != 0;
      if (mn != T.MN_BT) {
        const nv = mn == T.MN_BTS ? v | (<u64>1 << bit) : mn == T.MN_BTR ? v & ~(<u64>1 << bit) : v ^ (<u64>1 << bit);
        writeLinear(address, memSize, nv);
        if (stopped != EMU_OK) return false;
      }
      setFlags(set ? CF : 0, CF);
      return true;
    }
    case T.MN_MOVSB: case T.MN_MOVSW: case T.MN_MOVSD: case T.MN_MOVSQ:
    case T.MN_STOSB: case T.MN_STOSW: case T.MN_STOSD: case T.MN_STOSQ:
      // MOVSD with operands is the SSE move, not the string instruction.
      if (kind(0) != O.OK_STRING_DESTINATION) break;
      return stringOp(mn == T.MN_MOVSB || mn == T.MN_MOVSW || mn == T.MN_MOVSD || mn == T.MN_MOVSQ, memSize);
  }
  stop(EMU_UNSUPPORTED);
  return false;
}

/** MOVS or STOS, REP-prefixed or not; up to MAX_STRING_ITERATIONS elements per call. */
function stringOp(movs: bool, size: u32): bool {
  const rep = (load<u8>(rec, O.O_FLAGS) & (O.FL_REP | O.FL_REPNE)) != 0;
  const am = addressMask();
  const step: u64 = (load<u64>(st, E_RFLAGS) & DF) != 0 ? <u64>(-<i64>size) : <u64>size;
  const srcBase = segmentBase(<u32>load<u8>(rec, O.O_SEGMENT));
  const dstBase = segmentBase(R.R_ES);
  let done: u32 = 0;
  while (true) {
    if (rep && (gpr(R.N_CX) & am) == 0) return true;
    if (done == MAX_STRING_ITERATIONS) return false;
    const si = gpr(R.N_SI) & am, di = gpr(R.N_DI) & am;
    // Check both operands first: an iteration faults before it touches anything.
    if (movs) probe(srcBase + si, size, false);
    probe(dstBase + di, size, true);
    if (stopped != EMU_OK) {
      // Completed iterations stand; the fault is reported when the instruction resumes.
      if (done > 0 && stopped == EMU_PAGE_FAULT) stopped = EMU_OK;
      return false;
    }
    const v = movs ? readLinear(srcBase + si, size) : gpr(0) & mask(size);
    writeLinear(dstBase + di, size, v);
    if (stopped != EMU_OK) return false;
    setReg(R.N_DI, di + step, am);
    if (movs) setReg(R.N_SI, si + step, am);
    if (rep) setReg(R.N_CX, (gpr(R.N_CX) & am) - 1, am);
    done++;
    if (!rep) return true;
  }
}

/** Writes the low address-size bits of a register, as the string instructions do. */
function setReg(n: u32, v: u64, am: u64): void {
  if (am == 0xffff) store<u16>(st + (<usize>n << 3), <u16>v);
  else setGpr(n, v & am);
}
