// The common case of 64-bit code, decoded with a fraction of decodeOne's work: no legacy prefix (a REX
// is fine), a one-byte or 0F opcode, general-register, memory, immediate and branch operands. That is
// about 95% of the kernel's instructions (a third of them int3 padding). Anything else returns 0 and
// decodeOne starts over, so this file only has to be right about what it accepts; the record it
// writes is byte for byte decodeOne's (fast.test.ts compares the two on the kernel and random bytes).
//
// Why a second decoder: decodeOne keeps the state of every prefix, VEX/EVEX field and operand method
// alive across one big function, and V8 spills most of it to the stack (a 480-byte frame, ~50 stack
// stores per instruction even for an int3). Here the live state fits in registers.
import * as T from './tables';
import * as R from './registers';
import * as O from './record';
import { entryInfo, entryOperands, fixedRegister, flag, otherSizeBytes, registerSize } from './decoder';

// @ts-ignore: decorator
@inline function sizeOf(s: u32, osz: u32, vW: u32): u32 {
  if (s == T.S_V) return osz;
  if (s == T.S_B) return 1;
  return otherSizeBytes(s, osz, 64, vW, 0);
}

// @ts-ignore: decorator
@inline function gpr(size: u32, n: u32, rex: bool): u32 {
  if (size == 1) return rex && n >= 4 ? R.R_SPL - 4 + n : R.R_AL + n;
  if (size == 2) return R.R_AX + n;
  if (size == 4) return R.R_EAX + n;
  return R.R_RAX + n;
}

/** Decodes the instruction at start (64-bit mode) into out and returns its length, or 0 to leave it to decodeOne. */
// @ts-ignore: decorator
@inline export function decodeFast(start: usize, end: usize, ip: u64, out: usize): u32 {
  let p = start;
  let b = <u32>load<u8>(p++);
  v128.store(out, i64x2.splat(0));
  v128.store(out, i64x2.splat(0), 16);
  v128.store(out, i64x2.splat(0), 32);
  let info = entryInfo(b);
  // One-byte instructions without operands (int3, ret, leave, hlt...): length, mnemonic, address size.
  if ((<u32>(info >> 16) & 15) == T.K_LEAF && !flag(info, T.FLAG_MODRM) && entryOperands(b) == 0) {
    store<u64>(out, 1 | ((info & 0xffff) << 16) | (<u64>8 << 56));
    return 1;
  }
  let rex: u32 = 0;
  if (b - 0x40 < 16) {
    rex = b;
    b = <u32>load<u8>(p++);
  }
  if (load<u8>(T.PREFIX_CLASS + b) != 0) return 0;
  let index = b;
  if (b == 0x0f) {
    b = <u32>load<u8>(p++);
    if (b == 0x38 || b == 0x3a || b == 0x0f) return 0;
    index = T.MAP_0F * 256 + b;
  } else if (b == 0xc4 || b == 0xc5 || b == 0x62 || b == 0x8f) return 0;
  info = entryInfo(index);
  const vW = (rex >> 3) & 1;
  const vB = rex & 1;

  let modrm: u32 = 0;
  let memBase: u32 = R.R_NONE, memIndex: u32 = R.R_NONE, memScale: u32 = 1;
  let memDisp: i64 = 0;
  if (flag(info, T.FLAG_MODRM)) {
    modrm = <u32>load<u8>(p++);
    const mod = modrm >> 6;
    if (mod != 3 && !flag(info, T.FLAG_REG)) {
      const rm = modrm & 7;
      if (rm == 4) {
        const sib = <u32>load<u8>(p++);
        memScale = 1 << (sib >> 6);
        const idx = ((sib >> 3) & 7) | (((rex >> 1) & 1) << 3);
        if (idx != 4) memIndex = R.R_RAX + idx;
        const base = sib & 7;
        if (base == 5 && mod == 0) {
          memDisp = <i64>load<i32>(p);
          p += 4;
        } else memBase = R.R_RAX + (base | (vB << 3));
      } else if (rm == 5 && mod == 0) {
        memBase = R.R_RIP;
        memDisp = <i64>load<i32>(p);
        p += 4;
      } else memBase = R.R_RAX + (rm | (vB << 3));
      if (mod == 1) {
        memDisp = <i64>load<i8>(p++);
      } else if (mod == 2) {
        memDisp = <i64>load<i32>(p);
        p += 4;
      }
    }
  }

  // Selectors, with every prefix-dependent field at its no-prefix value.
  let kind = <u32>(info >> 16) & 15;
  while (kind >= T.K_REG) {
    let child: u32 = 0; // K_P, K_L
    if (kind == T.K_REG) child = (modrm >> 3) & 7;
    else if (kind == T.K_MOD) child = (modrm >> 6) == 3 ? 1 : 0;
    else if (kind == T.K_RM) child = modrm & 7;
    else if (kind == T.K_W) child = vW;
    else if (kind == T.K_MODE) child = 1;
    else if (kind == T.K_OSZ) child = vW != 0 || flag(info, T.FLAG_D64) ? 2 : 1;
    else if (kind == T.K_ASZ) child = 2;
    else if (kind == T.K_REXB) child = vB;
    index = <u32>(info & 0xffff) + child;
    info = entryInfo(index);
    kind = <u32>(info >> 16) & 15;
  }
  if (kind != T.K_LEAF) return 0;
  const mod3 = (modrm >> 6) == 3 || flag(info, T.FLAG_REG);
  const osz: u32 = vW != 0 || flag(info, T.FLAG_D64) || flag(info, T.FLAG_F64) ? 8 : 4;

  const words = entryOperands(index);
  const rm = (modrm & 7) | (vB << 3);
  const reg = ((modrm >> 3) & 7) | (((rex >> 2) & 1) << 3);
  const hasRex = rex != 0;
  let count: u32 = 0;
  let memory = false;
  let branch = false;
  let form: u32 = 0;
  let size0: u32 = 0;
  for (let i: u32 = 0; i < 4; i++) {
    const w = <u32>(words >> (16 * i)) & 0xffff;
    if (w == 0) break;
    const method = w & 31;
    const s = (w >> 5) & 31;
    let register: u32 = 0;
    let size: u32 = 0;
    count++;
    if (method == T.M_E || method == T.M_M) {
      if (!mod3) {
        if (s == T.S_P) return 0; // far pointers: FM_FAR, in decodeOne
        size = sizeOf(s, osz, vW);
        store<u8>(out + i, <u8>O.OK_MEMORY, O.O_KINDS);
        const stack = memBase == R.R_RAX + R.N_SP || memBase == R.R_RAX + R.N_BP;
        store<u8>(out, <u8>(stack ? R.R_SS : R.R_DS), O.O_SEGMENT);
        store<u8>(out, <u8>memBase, O.O_BASE);
        store<u8>(out, <u8>memIndex, O.O_INDEX);
        store<u8>(out, <u8>(memIndex == 0 ? 0 : memScale), O.O_SCALE);
        store<i64>(out, memDisp, O.O_DISPLACEMENT);
        store<u16>(out, <u16>size, O.O_MEMORY_SIZE);
        memory = true;
      } else if (method == T.M_M) return 0; // invalid: decodeOne says so
      else register = gpr(registerBytes(s, osz, vW), rm, hasRex);
    } else if (method == T.M_G) register = gpr(registerBytes(s, osz, vW), reg, hasRex);
    else if (method == T.M_R) register = gpr(registerBytes(s, osz, vW), rm, hasRex);
    else if (method == T.M_Z) register = gpr(sizeOf(s, osz, vW), (b & 7) | (vB << 3), hasRex);
    else if (method == T.M_I || method == T.M_IS) {
      if (i > 0 && load<u8>(out + i - 1, O.O_KINDS) == O.OK_IMMEDIATE) return 0; // ENTER's second immediate
      const n = method == T.M_IS ? 1 : s == T.S_V ? osz : s == T.S_Z ? 4 : sizeOf(s, osz, vW);
      let value: u64;
      if (n == 1) value = method == T.M_IS ? <u64><i64>load<i8>(p) : <u64>load<u8>(p);
      else if (n == 2) value = <u64>load<u16>(p);
      else if (n == 4) value = s == T.S_Z && osz == 8 ? <u64><i64>load<i32>(p) : <u64>load<u32>(p);
      else value = load<u64>(p);
      store<u8>(out + i, <u8>O.OK_IMMEDIATE, O.O_KINDS);
      store<u64>(out, value, O.O_IMMEDIATE);
      if (i == 0) size0 = osz;
      p += n;
    } else if (method == T.M_J) {
      let rel: i64;
      if (s == T.S_B) {
        rel = <i64>load<i8>(p++);
        form = O.FM_SHORT;
      } else {
        rel = <i64>load<i32>(p);
        p += 4;
      }
      store<u8>(out + i, <u8>O.OK_NEAR_BRANCH, O.O_KINDS);
      store<i64>(out, rel, O.O_IMMEDIATE);
      branch = true;
    } else if (method == T.M_FIX) {
      const f = w >> 10;
      if (f == T.F_1) {
        store<u8>(out + i, <u8>O.OK_IMMEDIATE, O.O_KINDS);
        store<u64>(out, 1, O.O_IMMEDIATE);
        if (i == 0) size0 = osz;
      } else register = fixedRegister(f, osz);
    } else return 0;
    if (register != 0) {
      store<u8>(out + i, <u8>O.OK_REGISTER, O.O_KINDS);
      store<u8>(out + i, <u8>register, O.O_REGISTERS);
      if (i == 0) size0 = registerSize(register, 64);
    } else if (i == 0 && size != 0) size0 = size;
  }
  if (p > end) return 0; // truncated: decodeOne reports it
  const length = <u32>(p - start);
  store<u8>(out, <u8>length, O.O_LENGTH);
  store<u16>(out, <u16>(info & 0xffff), O.O_MNEMONIC);
  store<u8>(out, <u8>size0, O.O_OPERAND_SIZE);
  store<u8>(out, 8, O.O_ADDRESS_SIZE);
  store<u8>(out, <u8>(memory ? <u32>(info >> T.FLAG_ACCESS) & 3 : 0), O.O_FLAGS);
  store<u8>(out, <u8>count, O.O_OPERAND_COUNT);
  store<u8>(out, <u8>(vW != 0 ? O.PF_REXW : 0), O.O_PREFIXES);
  store<u8>(out, <u8>form, O.O_FORM);
  if (branch) store<u64>(out, ip + <u64>length + load<u64>(out, O.O_IMMEDIATE), O.O_IMMEDIATE);
  return length;
}

/** Size of a general register operand of size code s (decodeOne's registerBytes without VEX). */
// @ts-ignore: decorator
@inline function registerBytes(s: u32, osz: u32, vW: u32): u32 {
  if (s == T.S_V || s == T.S_VW) return osz;
  if (s == T.S_YB || s == T.S_YW || s == T.S_YD) return vW != 0 ? 8 : 4;
  return sizeOf(s, osz, vW);
}
