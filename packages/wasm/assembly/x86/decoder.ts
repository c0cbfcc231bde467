// Decodes one x86 instruction into a record (record.ts). The bytes are read in three steps: prefixes
// (legacy, REX, or a VEX/EVEX escape), the opcode with ModRM/SIB/displacement, then the operands the
// table entry lists, which consume the immediates in order. Everything opcode-specific is data in
// tables.ts; this file only knows how each operand method and selector reads the instruction.
//
// The caller guarantees at least PAD readable bytes past `end`: no read is bounds-checked, and an
// instruction that runs past `end` is reported as truncated afterwards.
import * as T from './tables';
import * as R from './registers';
import * as O from './record';

export const PAD: u32 = 64;

// CR0, CR2, CR3, CR4 and CR8 exist.
const VALID_CR: u32 = 0x11d;

// Legacy prefix classes of T.PREFIX_CLASS, indexed by byte.
const P_NONE: u8 = 0, P_SEG: u8 = 1, P_OSZ: u8 = 2, P_ASZ: u8 = 3, P_LOCK: u8 = 4, P_REX: u8 = 6;

// 16-bit addressing: base and index register numbers for each r/m (8: none).
// bx, bx, bp, bp, si, di, bp, bx and si, di, si, di.
const BASE16: usize = memory.data<u8>([3, 3, 5, 5, 6, 7, 5, 3]);
const INDEX16: usize = memory.data<u8>([6, 7, 6, 7, 8, 8, 8, 8]);

// State of the instruction being decoded.
let mode: u32 = 64; // 16, 32 or 64
let p: usize = 0; // next byte
let segment: u32 = 0; // override register id, 0: none
let opsize16: bool = false;
let addrOverride: bool = false;
let lock: bool = false;
let rep: u32 = 0; // 0, 2 (F3) or 3 (F2): the mandatory-prefix numbering
let rex: u32 = 0; // 0 or 0x40-0x4F
let vex: u32 = 0; // 0 legacy, 1 VEX, 2 EVEX
let vW: u32 = 0, vR: u32 = 0, vX: u32 = 0, vB: u32 = 0, vR2: u32 = 0, vV2: u32 = 0;
let vvvv: u32 = 0, vL: u32 = 0, vpp: u32 = 0, evexA: u32 = 0, evexZ: u32 = 0, evexB: u32 = 0;
let opcode: u32 = 0;
let modrm: u32 = 0;
let memBase: u32 = 0, memIndex: u32 = 0, memScale: u32 = 0, memDisp: i64 = 0, dispIs8: bool = false;
let osz: u32 = 4; // effective operand size in bytes
let asz: u32 = 8; // effective address size in bytes
let branch: bool = false; // a near branch operand waits for the instruction's length

// @ts-ignore: decorator
@inline function byte(): u32 {
  return <u32>load<u8>(p++);
}

// @ts-ignore: decorator
@inline function entryInfo(index: u32): u64 {
  return load<u64>(T.ENTRIES + (<usize>index << 4), 8);
}

// @ts-ignore: decorator
@inline function entryOperands(index: u32): u64 {
  return load<u64>(T.ENTRIES + (<usize>index << 4));
}

// @ts-ignore: decorator
@inline function flag(info: u64, bit: u64): bool {
  return ((info >> bit) & 1) != 0;
}

/** Decodes the instruction at start into the record at out; returns its length (at least 1). */
export function decodeOne(start: usize, end: usize, bits: u32, ip: u64, out: usize): u32 {
  mode = bits;
  p = start;
  segment = 0;
  opsize16 = addrOverride = lock = false;
  rep = rex = vex = 0;
  // Six stores: V8 runs memory.fill through a builtin call, which costs more than decoding an int3.
  store<u64>(out, 0);
  store<u64>(out, 0, 8);
  store<u64>(out, 0, 16);
  store<u64>(out, 0, 24);
  store<u64>(out, 0, 32);
  store<u64>(out, 0, 40);

  // Prefixes. A REX counts only right before the opcode; past 15 bytes the instruction is too long.
  let b: u32 = 0;
  const limit = start + 15;
  while (true) {
    if (p >= limit) return finish(start, end, out, O.ST_TOO_LONG);
    b = byte();
    const cls = load<u8>(T.PREFIX_CLASS + b);
    if (cls == P_NONE || (cls == P_REX && mode != 64)) break;
    if (cls == P_REX) {
      rex = b;
      continue;
    }
    rex = 0;
    if (cls == P_SEG) {
      const reg = segmentOf(b);
      // In 64-bit mode an FS or GS prefix wins over ES, CS, SS and DS (which have no effect there).
      if (mode != 64 || reg >= R.R_ES + 4 || segment < R.R_ES + 4) segment = reg;
    } else if (cls == P_OSZ) opsize16 = true;
    else if (cls == P_ASZ) addrOverride = true;
    else if (cls == P_LOCK) lock = true;
    else rep = b == 0xf3 ? 2 : 3;
  }
  asz = mode == 64 ? (addrOverride ? 4 : 8) : mode == 32 ? (addrOverride ? 2 : 4) : addrOverride ? 4 : 2;

  // Opcode and map.
  let map = T.MAP_ONE;
  vW = rex >> 3 & 1;
  vR = rex >> 2 & 1;
  vX = rex >> 1 & 1;
  vB = rex & 1;
  vR2 = vV2 = vvvv = vL = evexA = evexZ = evexB = 0;
  if (b == 0x0f) {
    b = byte();
    if (b == 0x38) {
      map = T.MAP_0F38;
      b = byte();
    } else if (b == 0x3a) {
      map = T.MAP_0F3A;
      b = byte();
    } else map = T.MAP_0F;
  } else if ((b == 0xc4 || b == 0xc5 || b == 0x62) && (mode == 64 || load<u8>(p) >= 0xc0)) {
    // VEX and EVEX; outside 64-bit mode these bytes are LES/LDS/BOUND unless ModRM.mod would be 3.
    if (rex != 0 || opsize16 || rep != 0 || lock) return finish(start, end, out, O.ST_INVALID);
    map = b == 0x62 ? evexPrefix() : vexPrefix(b);
    if (map == 0) return finish(start, end, out, O.ST_INVALID);
    b = byte();
  } else if (b == 0x8f && (load<u8>(p) & 0x38) != 0) {
    return finish(start, end, out, O.ST_INVALID); // XOP (AMD), not decoded
  }
  opcode = b;

  let index = map * 256 + b;
  let info = entryInfo(index);
  modrm = 0;
  if (map == T.MAP_0F && b == 0x0f) {
    // 3DNow!: the opcode is a suffix byte after the operands' ModRM bytes.
    readModrm(false);
    index = T.MAP_3DNOW * 256 + byte();
    info = entryInfo(index);
  } else if (flag(info, T.FLAG_MODRM)) readModrm(flag(info, T.FLAG_REG));

  // Walk the selectors down to a leaf.
  let kind = <u32>(info >> 16) & 15;
  while (kind >= T.K_REG) {
    index = <u32>(info & 0xffff) + select(kind, info);
    info = entryInfo(index);
    kind = <u32>(info >> 16) & 15;
  }
  if (kind == T.K_INVALID) return finish(start, end, out, O.ST_INVALID);
  const mod3 = (modrm >> 6) == 3 || flag(info, T.FLAG_REG);
  if (lock && !(flag(info, T.FLAG_LOCK) && !mod3)) return finish(start, end, out, O.ST_INVALID);
  if (vex != 0 && !flag(info, T.FLAG_USESVVVV) && (vvvv | vV2) != 0) return finish(start, end, out, O.ST_INVALID);
  osz = operandSize(flag(info, T.FLAG_D64), flag(info, T.FLAG_F64));

  const status = operands(entryOperands(index), info, mod3, out);
  if (status != O.ST_OK) return finish(start, end, out, status);
  store<u16>(out, <u16>(info & 0xffff), O.O_MNEMONIC);
  store<u8>(out, <u8>asz, O.O_ADDRESS_SIZE);
  let flags = <u32>load<u8>(out, O.O_FLAGS);
  if (lock) flags |= O.FL_LOCK;
  if (vex == 0 && rep == 2) flags |= O.FL_REP;
  if (vex == 0 && rep == 3) flags |= O.FL_REPNE;
  store<u8>(out, <u8>flags, O.O_FLAGS);
  const length = finish(start, end, out, O.ST_OK);
  // A near branch's target is relative to the end of the instruction, known only now.
  if (branch) {
    let target = ip + <u64>(p - start) + load<u64>(out, O.O_IMMEDIATE);
    if (osz == 2 && mode != 64) target &= 0xffff;
    else if (mode != 64) target &= 0xffffffff;
    store<u64>(out, target, O.O_IMMEDIATE);
  }
  return length;
}

function segmentOf(b: u32): u32 {
  if (b == 0x26) return R.R_ES;
  if (b == 0x2e) return R.R_CS;
  if (b == 0x36) return R.R_SS;
  if (b == 0x3e) return R.R_DS;
  return b == 0x64 ? R.R_ES + 4 : R.R_ES + 5;
}

/** C4/C5 at p-1: fills the VEX fields, returns the map or 0 when the map field is reserved. */
function vexPrefix(escape: u32): u32 {
  vex = 1;
  const b1 = byte();
  let m: u32 = 1;
  let b2 = b1;
  vR = (~b1 >> 7) & 1;
  if (escape == 0xc4) {
    vX = (~b1 >> 6) & 1;
    vB = (~b1 >> 5) & 1;
    m = b1 & 31;
    b2 = byte();
    vW = b2 >> 7;
  } else vW = vX = vB = 0;
  vvvv = (~b2 >> 3) & 15;
  vL = (b2 >> 2) & 1;
  vpp = b2 & 3;
  if (mode != 64) {
    vX = vB = 0;
    vvvv &= 7;
  }
  return m >= 1 && m <= 3 ? T.MAP_V0F - 1 + m : 0;
}

/** 62 at p-1: fills the EVEX fields, returns the map or 0 when reserved bits are wrong. */
function evexPrefix(): u32 {
  vex = 2;
  const p0 = byte(), p1 = byte(), p2 = byte();
  vR = (~p0 >> 7) & 1;
  vX = (~p0 >> 6) & 1;
  vB = (~p0 >> 5) & 1;
  vR2 = (~p0 >> 4) & 1;
  vW = p1 >> 7;
  vvvv = (~p1 >> 3) & 15;
  vpp = p1 & 3;
  evexZ = p2 >> 7;
  vL = (p2 >> 5) & 3;
  evexB = (p2 >> 4) & 1;
  vV2 = (~p2 >> 3) & 1;
  evexA = p2 & 7;
  if (mode != 64) {
    vR = vX = vB = vR2 = vV2 = 0;
    vvvv &= 7;
  }
  const m = p0 & 7;
  if ((p0 & 8) != 0 || (p1 & 4) == 0 || m < 1 || m > 3) return 0;
  return T.MAP_E0F - 1 + m;
}

/** Reads ModRM and, for a memory form, SIB and displacement into mem*. */
function readModrm(registerOnly: bool): void {
  modrm = byte();
  memBase = memIndex = R.R_NONE;
  memScale = 1;
  memDisp = 0;
  dispIs8 = false;
  const mod = modrm >> 6;
  if (mod == 3 || registerOnly) return;
  const rm = modrm & 7;
  if (asz == 2) {
    const base = <u32>load<u8>(BASE16 + rm);
    const idx = <u32>load<u8>(INDEX16 + rm);
    if (mod == 0 && rm == 6) {
      memDisp = <i64>load<i16>(p);
      p += 2;
    } else {
      memBase = R.R_AX + base;
      if (idx < 8) memIndex = R.R_AX + idx;
    }
    if (mod == 1) readDisp8();
    else if (mod == 2) {
      memDisp = <i64>load<i16>(p);
      p += 2;
    }
    return;
  }
  const bank = asz == 8 ? R.R_RAX : R.R_EAX;
  if (rm == 4) {
    const sib = byte();
    memScale = 1 << (sib >> 6);
    const idx = ((sib >> 3) & 7) | (vX << 3);
    if (idx != 4) memIndex = bank + idx;
    const base = sib & 7;
    if (base == 5 && mod == 0) {
      memDisp = <i64>load<i32>(p);
      p += 4;
    } else memBase = bank + (base | (vB << 3));
  } else if (rm == 5 && mod == 0) {
    // disp32 alone is RIP-relative in 64-bit mode.
    if (mode == 64) memBase = asz == 8 ? R.R_RIP : R.R_EIP;
    memDisp = <i64>load<i32>(p);
    p += 4;
  } else memBase = bank + (rm | (vB << 3));
  if (mod == 1) readDisp8();
  else if (mod == 2) {
    memDisp = <i64>load<i32>(p);
    p += 4;
  }
}

// @ts-ignore: decorator
@inline function readDisp8(): void {
  memDisp = <i64>load<i8>(p++);
  dispIs8 = true;
}

/** The child a selector entry picks. */
function select(kind: u32, info: u64): u32 {
  switch (kind) {
    case T.K_REG: return (modrm >> 3) & 7;
    case T.K_MOD: return (modrm >> 6) == 3 ? 1 : 0;
    case T.K_RM: return modrm & 7;
    case T.K_P: return vex != 0 ? vpp : rep != 0 ? rep : opsize16 ? 1 : 0;
    case T.K_W: return vW;
    case T.K_L: return vL;
    case T.K_MODE: return mode == 64 ? 1 : 0;
    case T.K_OSZ: {
      const size = operandSize(flag(info, T.FLAG_D64), false);
      return size == 2 ? 0 : size == 4 ? 1 : 2;
    }
    case T.K_ASZ: return asz == 2 ? 0 : asz == 4 ? 1 : 2;
    default: return vB; // K_REXB
  }
}

function operandSize(d64: bool, f64: bool): u32 {
  if (mode == 64) {
    if (vW != 0 && vex == 0) return 8;
    if (f64) return 8;
    if (opsize16) return 2;
    return d64 ? 8 : 4;
  }
  return (mode == 16) != opsize16 ? 2 : 4;
}

/** Writes the record's length and status; returns the length. */
function finish(start: usize, end: usize, out: usize, status: u32): u32 {
  let length = <u32>(p - start);
  if (length > 15) {
    status = O.ST_TOO_LONG;
    length = 15;
  } else if (p > end) {
    status = O.ST_TRUNCATED;
    length = <u32>(end - start);
  }
  if (length == 0) length = 1;
  store<u8>(out, <u8>length, O.O_LENGTH);
  store<u8>(out, <u8>status, O.O_STATUS);
  return length;
}

// ---- operands ----

/** Size in bytes a register or memory operand of size code s has. */
function sizeBytes(s: u32): u32 {
  switch (s) {
    case T.S_B: case T.S_YB: return 1;
    case T.S_W: case T.S_VW: case T.S_YW: return 2;
    case T.S_D: case T.S_SS: case T.S_YD: return 4;
    case T.S_Q: case T.S_SD: return 8;
    case T.S_DQ: return 16;
    case T.S_QQ: return 32;
    case T.S_T: return 10;
    case T.S_V: return osz;
    case T.S_VV: return osz * 2;
    case T.S_VD: return min(osz, 4);
    case T.S_Z: return osz == 2 ? 2 : 4;
    case T.S_Y: return vW != 0 ? 8 : 4;
    case T.S_N: return mode == 64 ? 8 : 4;
    case T.S_P: return osz + 2;
    case T.S_S: return mode == 64 ? 10 : 6;
    case T.S_X: return 16 << vL;
    case T.S_HX: return 8 << vL;
    case T.S_QX: return 4 << vL;
    case T.S_OX: return 2 << vL;
    case T.S_ENV: return osz == 2 ? 14 : 28;
    case T.S_FSAVE: return osz == 2 ? 94 : 108;
    case T.S_FXSAVE: return 512;
    case T.S_M64B: return 64;
    default: return 0;
  }
}

/** Size of the register form where it differs from the memory form (Evw, Eyb, Eyw, Eyd). */
function registerBytes(s: u32): u32 {
  if (s == T.S_VW) return osz;
  if (s == T.S_YB || s == T.S_YW || s == T.S_YD) return vW != 0 ? 8 : 4;
  return sizeBytes(s);
}

/** The vector register bank (xmm, ymm, zmm) of size code s. */
function vectorBank(s: u32): u32 {
  if (s == T.S_X) return vL == 0 ? R.R_XMM0 : vL == 1 ? R.R_YMM0 : R.R_ZMM0;
  if (s == T.S_HX) return vL == 2 ? R.R_YMM0 : R.R_XMM0;
  if (s == T.S_QQ) return R.R_YMM0;
  return R.R_XMM0;
}

// @ts-ignore: decorator
@inline function setRegister(out: usize, i: u32, reg: u32): void {
  store<u8>(out + i, <u8>O.OK_REGISTER, O.O_KINDS);
  store<u8>(out + i, <u8>reg, O.O_REGISTERS);
}

/** Reads an immediate of n bytes, sign-extended when signed. */
function immediate(n: u32, signed: bool): u64 {
  let v: u64;
  if (n == 1) v = signed ? <u64><i64>load<i8>(p) : <u64>load<u8>(p);
  else if (n == 2) v = signed ? <u64><i64>load<i16>(p) : <u64>load<u16>(p);
  else if (n == 4) v = signed ? <u64><i64>load<i32>(p) : <u64>load<u32>(p);
  else v = load<u64>(p);
  p += n;
  return v;
}

function memoryOperand(out: usize, i: u32, size: u32): void {
  store<u8>(out + i, <u8>O.OK_MEMORY, O.O_KINDS);
  let seg = segment;
  if (seg == 0) {
    const base = memBase;
    const sp = base == R.R_RAX + R.N_SP || base == R.R_EAX + R.N_SP || base == R.R_AX + R.N_SP;
    const bp = base == R.R_RAX + R.N_BP || base == R.R_EAX + R.N_BP || base == R.R_AX + R.N_BP;
    seg = sp || bp ? R.R_SS : R.R_DS;
  }
  // EVEX compresses 8-bit displacements by the access size (its element size when broadcasting).
  if (vex == 2 && dispIs8) memDisp *= <i64>size;
  store<u8>(out, <u8>seg, O.O_SEGMENT);
  store<u8>(out, <u8>memBase, O.O_BASE);
  store<u8>(out, <u8>memIndex, O.O_INDEX);
  store<u8>(out, <u8>(memIndex == 0 ? 0 : memScale), O.O_SCALE);
  store<i64>(out, memDisp, O.O_DISPLACEMENT);
  store<u16>(out, <u16>size, O.O_MEMORY_SIZE);
}

/** Decodes the operand words of a leaf into the record; returns a status. */
function operands(words: u64, info: u64, mod3: bool, out: usize): u32 {
  const rm = (modrm & 7) | (vB << 3);
  const reg = ((modrm >> 3) & 7) | (vR << 3);
  let count: u32 = 0;
  let memory = false;
  branch = false;
  let flags: u32 = 0;
  for (let i: u32 = 0; i < 4; i++) {
    const w = <u32>(words >> (16 * i)) & 0xffff;
    if (w == 0) break;
    const method = w & 31;
    const s = (w >> 5) & 31;
    count++;
    switch (method) {
      case T.M_E: case T.M_W: case T.M_Q: {
        if (!mod3) {
          memoryOperand(out, i, evexB != 0 && vex == 2 ? (vW != 0 ? 8 : 4) : sizeBytes(s));
          memory = true;
        } else if (method == T.M_E) setRegister(out, i, R.gpr(registerBytes(s), rm, rex != 0));
        else if (method == T.M_W) setRegister(out, i, vectorBank(s) + (rm | (vex == 2 ? vX << 4 : 0)));
        else setRegister(out, i, R.R_MM0 + (modrm & 7));
        break;
      }
      case T.M_M: {
        if (mod3) return O.ST_INVALID;
        memoryOperand(out, i, sizeBytes(s));
        memory = true;
        break;
      }
      case T.M_G: setRegister(out, i, R.gpr(registerBytes(s), reg, rex != 0)); break;
      case T.M_R: setRegister(out, i, R.gpr(registerBytes(s), rm, rex != 0)); break;
      case T.M_V: setRegister(out, i, vectorBank(s) + (reg | (vR2 << 4))); break;
      case T.M_U: setRegister(out, i, vectorBank(s) + (rm | (vex == 2 ? vX << 4 : 0))); break;
      case T.M_H: setRegister(out, i, vectorBank(s) + (vvvv | (vV2 << 4))); break;
      case T.M_B: setRegister(out, i, R.gpr(sizeBytes(s), vvvv, false)); break;
      case T.M_P: setRegister(out, i, R.R_MM0 + ((modrm >> 3) & 7)); break;
      case T.M_N: setRegister(out, i, R.R_MM0 + (modrm & 7)); break;
      case T.M_T: setRegister(out, i, R.R_ST0 + (modrm & 7)); break;
      case T.M_Z: setRegister(out, i, R.gpr(sizeBytes(s), (opcode & 7) | (vB << 3), rex != 0)); break;
      case T.M_S: {
        // Six segment registers, and CS cannot be loaded with MOV.
        const n = (modrm >> 3) & 7;
        if (n > 5 || (n == 1 && i == 0)) return O.ST_INVALID;
        setRegister(out, i, R.R_ES + n);
        break;
      }
      case T.M_C: {
        if (((1 << reg) & VALID_CR) == 0) return O.ST_INVALID;
        setRegister(out, i, R.R_CR0 + reg);
        break;
      }
      case T.M_D: {
        if (reg > 7) return O.ST_INVALID;
        setRegister(out, i, R.R_DR0 + reg);
        break;
      }
      case T.M_L: {
        const n = <u32>load<u8>(p++) >> 4;
        setRegister(out, i, vectorBank(s) + (mode == 64 ? n : n & 7));
        break;
      }
      case T.M_I: case T.M_IS: {
        // The second immediate of ENTER gets its own slot.
        const n = method == T.M_IS ? 1 : s == T.S_V ? osz : s == T.S_Z ? (osz == 2 ? 2 : 4) : sizeBytes(s);
        const signed = method == T.M_IS || (s == T.S_Z && osz == 8);
        if (load<u8>(out + i - 1, O.O_KINDS) == O.OK_IMMEDIATE && i > 0) {
          store<u8>(out + i, <u8>O.OK_IMMEDIATE2, O.O_KINDS);
          store<u16>(out, <u16>immediate(n, false), O.O_IMMEDIATE2);
        } else {
          store<u8>(out + i, <u8>O.OK_IMMEDIATE, O.O_KINDS);
          store<u64>(out, immediate(n, signed), O.O_IMMEDIATE);
        }
        break;
      }
      case T.M_J: {
        const n = s == T.S_B ? 1 : osz == 2 ? 2 : 4;
        store<u8>(out + i, <u8>O.OK_NEAR_BRANCH, O.O_KINDS);
        branch = true;
        store<u64>(out, immediate(n, true), O.O_IMMEDIATE);
        break;
      }
      case T.M_O: {
        memBase = memIndex = R.R_NONE;
        memDisp = <i64>immediate(asz, false);
        dispIs8 = false;
        memoryOperand(out, i, sizeBytes(s));
        memory = true;
        break;
      }
      case T.M_A: {
        store<u8>(out + i, <u8>O.OK_FAR_BRANCH, O.O_KINDS);
        store<u64>(out, immediate(osz == 2 ? 2 : 4, false), O.O_IMMEDIATE);
        store<u16>(out, <u16>immediate(2, false), O.O_IMMEDIATE2);
        break;
      }
      case T.M_X: case T.M_XL: {
        const bank = asz == 8 ? R.R_RAX : asz == 4 ? R.R_EAX : R.R_AX;
        if (method == T.M_XL) {
          memBase = bank + R.N_BX;
          memIndex = R.R_AL;
          memScale = 1;
          memDisp = 0;
          memoryOperand(out, i, 1);
        } else {
          store<u8>(out + i, <u8>O.OK_STRING_SOURCE, O.O_KINDS);
          store<u8>(out + i, <u8>(bank + R.N_SI), O.O_REGISTERS);
          store<u8>(out, <u8>(segment != 0 ? segment : R.R_DS), O.O_SEGMENT);
          store<u16>(out, <u16>sizeBytes(s), O.O_MEMORY_SIZE);
          flags |= O.FL_READ;
        }
        memory = true;
        break;
      }
      case T.M_Y: {
        const bank = asz == 8 ? R.R_RAX : asz == 4 ? R.R_EAX : R.R_AX;
        store<u8>(out + i, <u8>O.OK_STRING_DESTINATION, O.O_KINDS);
        store<u8>(out + i, <u8>(bank + R.N_DI), O.O_REGISTERS);
        store<u16>(out, <u16>sizeBytes(s), O.O_MEMORY_SIZE);
        memory = true;
        break;
      }
      default: {
        // Fixed operands: a register named by the table, or the constant 1 of the shift group.
        const f = w >> 10;
        if (f == T.F_1) {
          store<u8>(out + i, <u8>O.OK_IMMEDIATE, O.O_KINDS);
          store<u64>(out, 1, O.O_IMMEDIATE);
        } else setRegister(out, i, fixedRegister(f));
      }
    }
    if (i == 0) {
      const k = load<u8>(out, O.O_KINDS);
      const r = <u32>load<u8>(out, O.O_REGISTERS);
      store<u8>(out, <u8>(k == O.OK_REGISTER ? registerSize(r) : k == O.OK_IMMEDIATE ? osz : load<u16>(out, O.O_MEMORY_SIZE)), O.O_OPERAND_SIZE);
    }
  }
  if (memory) flags |= <u32>(info >> T.FLAG_ACCESS) & 3;
  if (vex == 2) {
    store<u8>(out, <u8>(evexA == 0 ? 0 : R.R_K0 + evexA), O.O_MASK);
    store<u8>(out, <u8>(evexZ | (evexB != 0 && !mod3 ? O.EV_BROADCAST : 0)), O.O_EVEX);
  }
  store<u8>(out, <u8>flags, O.O_FLAGS);
  store<u8>(out, <u8>count, O.O_OPERAND_COUNT);
  return O.ST_OK;
}

function fixedRegister(f: u32): u32 {
  switch (f) {
    case T.F_AL: return R.R_AL;
    case T.F_CL: return R.R_AL + R.N_CX;
    case T.F_DX: return R.R_AX + R.N_DX;
    case T.F_AX: return R.R_AX;
    case T.F_RAX: return R.gpr(osz, 0, false);
    case T.F_EAX: return osz == 2 ? R.R_AX : R.R_EAX;
    case T.F_ST0: return R.R_ST0;
    default: return R.R_ES + (f - T.F_ES);
  }
}

function registerSize(r: u32): u32 {
  if (r < R.R_AX) return 1;
  if (r < R.R_EAX) return 2;
  if (r < R.R_RAX) return 4;
  if (r < R.R_EIP) return 8;
  if (r < R.R_XMM0) return r == R.R_EIP ? 4 : r == R.R_RIP ? 8 : 2;
  if (r < R.R_YMM0) return 16;
  if (r < R.R_ZMM0) return 32;
  if (r < R.R_K0) return 64;
  if (r >= R.R_ST0 && r < R.R_MM0) return 10;
  if (r >= R.R_MM0 && r < R.R_MM0 + 8) return 8;
  return mode == 64 ? 8 : 4; // control and debug registers, mask registers
}
