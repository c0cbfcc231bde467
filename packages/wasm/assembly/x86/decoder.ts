// Decodes one x86 instruction into a record (record.ts). The bytes are read in three steps: prefixes
// (legacy, REX, or a VEX/EVEX escape), the opcode with ModRM/SIB/displacement, then the operands the
// table entry lists, which consume the immediates in order. Everything opcode-specific is data in
// tables.ts; this file only knows how each operand method and selector reads the instruction.
//
// All decoder state lives in locals of decodeOne, one function: V8 keeps locals in registers, while
// module globals cost a memory access each (about 100 per instruction when the state was global, and
// the decoder ran at half its present speed). Helpers are therefore pure: they take what they need
// as arguments, and are inlined. There are too many such locals for the registers all the same (V8
// keeps a 480-byte frame), so the common 64-bit forms go through fast.ts first, and the batch loop
// calls this as a function of its own, whose spills stay out of the loop.
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

// @ts-ignore: decorator
@inline export function entryInfo(index: u32): u64 {
  return load<u64>(T.ENTRIES + (<usize>index << 4), 8);
}

// @ts-ignore: decorator
@inline export function entryOperands(index: u32): u64 {
  return load<u64>(T.ENTRIES + (<usize>index << 4));
}

// @ts-ignore: decorator
@inline export function flag(info: u64, bit: u64): bool {
  return ((info >> bit) & 1) != 0;
}

/** Decodes the instruction at start into the record at out; returns its length (at least 1). */
// @ts-ignore: decorator
@inline export function decodeOne(start: usize, end: usize, mode: u32, ip: u64, out: usize): u32 {
  let p = start;
  let segment: u32 = 0; // override register id, 0: none
  let opsize16 = false;
  let addrOverride = false;
  let lock = false;
  let rep: u32 = 0; // 0, 2 (F3) or 3 (F2): the mandatory-prefix numbering
  let rex: u32 = 0; // 0 or 0x40-0x4F
  // Three stores: V8 runs memory.fill through a builtin call, which costs more than decoding an int3.
  v128.store(out, i64x2.splat(0));
  v128.store(out, i64x2.splat(0), 16);
  v128.store(out, i64x2.splat(0), 32);

  // Prefixes. A REX counts only right before the opcode; past 15 bytes the instruction is too long.
  let b: u32 = 0;
  const limit = start + 15;
  while (true) {
    if (p >= limit) return finish(start, end, p, out, O.ST_TOO_LONG);
    b = <u32>load<u8>(p++);
    const cls = load<u8>(T.PREFIX_CLASS + b);
    if (cls == P_NONE) break;
    if (cls == P_REX) {
      if (mode != 64) break;
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
  const asz: u32 = mode == 64 ? (addrOverride ? 4 : 8) : mode == 32 ? (addrOverride ? 2 : 4) : addrOverride ? 4 : 2;

  // Opcode and map; VEX/EVEX fields (legacy code takes W, R, X, B from REX).
  let map = T.MAP_ONE;
  let vex: u32 = 0; // 0 legacy, 1 VEX, 2 EVEX
  let vW: u32 = rex >> 3 & 1, vR: u32 = rex >> 2 & 1, vX: u32 = rex >> 1 & 1, vB: u32 = rex & 1;
  let vR2: u32 = 0, vV2: u32 = 0, vvvv: u32 = 0, vL: u32 = 0, vpp: u32 = 0;
  let evexA: u32 = 0, evexZ: u32 = 0, evexB: u32 = 0;
  let evexRounding: u32 = 0; // O.EV_SAE, or O.EV_ROUNDING and the mode
  if (b == 0x0f) {
    b = <u32>load<u8>(p++);
    if (b == 0x38) {
      map = T.MAP_0F38;
      b = <u32>load<u8>(p++);
    } else if (b == 0x3a) {
      map = T.MAP_0F3A;
      b = <u32>load<u8>(p++);
    } else map = T.MAP_0F;
  } else if ((b == 0xc4 || b == 0xc5 || b == 0x62) && (mode == 64 || load<u8>(p) >= 0xc0)) {
    // VEX and EVEX; outside 64-bit mode these bytes are LES/LDS/BOUND unless ModRM.mod would be 3.
    if (rex != 0 || opsize16 || rep != 0 || lock) return finish(start, end, p, out, O.ST_INVALID);
    let m: u32 = 1;
    if (b == 0x62) {
      vex = 2;
      const p0 = <u32>load<u8>(p), p1 = <u32>load<u8>(p, 1), p2 = <u32>load<u8>(p, 2);
      p += 3;
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
      m = p0 & 7;
      if ((p0 & 8) != 0 || (p1 & 4) == 0) m = 0;
      map = m >= 1 && m <= 3 ? T.MAP_E0F - 1 + m : m == 5 ? T.MAP_E5 : m == 6 ? T.MAP_E6 : 0; // 5, 6: AVX512-FP16
    } else {
      vex = 1;
      const b1 = <u32>load<u8>(p++);
      let b2 = b1;
      vR = (~b1 >> 7) & 1;
      if (b == 0xc4) {
        vX = (~b1 >> 6) & 1;
        vB = (~b1 >> 5) & 1;
        m = b1 & 31;
        b2 = <u32>load<u8>(p++);
        vW = b2 >> 7;
      } else vW = vX = vB = 0;
      vvvv = (~b2 >> 3) & 15;
      vL = (b2 >> 2) & 1;
      vpp = b2 & 3;
      if (mode != 64) {
        vX = vB = 0;
        vvvv &= 7;
      }
      map = m >= 1 && m <= 3 ? T.MAP_V0F - 1 + m : 0;
    }
    if (map == 0) return finish(start, end, p, out, O.ST_INVALID);
    b = <u32>load<u8>(p++);
  } else if (b == 0x8f && (load<u8>(p) & 0x38) != 0) {
    return finish(start, end, p, out, O.ST_INVALID); // XOP (AMD), not decoded
  }
  const opcode = b;

  let index = map * 256 + b;
  let info = entryInfo(index);
  // ModRM, and for a memory form SIB and displacement.
  let modrm: u32 = 0;
  let memBase: u32 = R.R_NONE, memIndex: u32 = R.R_NONE, memScale: u32 = 1;
  let memDisp: i64 = 0;
  let dispIs8 = false;
  let sibIndex: u32 = 0xff; // the SIB index field with REX.X/VEX.X (VSIB reads it as a vector register)
  const threeDNow = map == T.MAP_0F && b == 0x0f;
  if (threeDNow || flag(info, T.FLAG_MODRM)) {
    modrm = <u32>load<u8>(p++);
    const mod = modrm >> 6;
    if (mod != 3 && (threeDNow || !flag(info, T.FLAG_REG))) {
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
        if (mod == 1) {
          memDisp = <i64>load<i8>(p++);
          dispIs8 = true;
        } else if (mod == 2) {
          memDisp = <i64>load<i16>(p);
          p += 2;
        }
      } else {
        const bank = asz == 8 ? R.R_RAX : R.R_EAX;
        if (rm == 4) {
          const sib = <u32>load<u8>(p++);
          memScale = 1 << (sib >> 6);
          const idx = ((sib >> 3) & 7) | (vX << 3);
          sibIndex = idx;
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
        if (mod == 1) {
          memDisp = <i64>load<i8>(p++);
          dispIs8 = true;
        } else if (mod == 2) {
          memDisp = <i64>load<i32>(p);
          p += 4;
        }
      }
    }
    if (threeDNow) {
      // 3DNow!: the opcode is a suffix byte after the operands' ModRM bytes.
      index = T.MAP_3DNOW * 256 + <u32>load<u8>(p++);
      info = entryInfo(index);
    }
  }

  // Walk the selectors down to a leaf.
  let mandatory = false; // a K_P selector took F3, F2 or 66 as part of the opcode
  let kind = <u32>(info >> 16) & 15;
  while (kind >= T.K_REG) {
    let child: u32;
    switch (kind) {
      case T.K_REG: child = (modrm >> 3) & 7; break;
      case T.K_MOD: child = (modrm >> 6) == 3 ? 1 : 0; break;
      case T.K_RM: child = modrm & 7; break;
      case T.K_P:
        child = vex != 0 ? vpp : rep != 0 ? rep : opsize16 ? 1 : 0;
        mandatory = vex == 0 && child != 0;
        break;
      case T.K_W: child = vW; break;
      case T.K_L: child = vex == 2 && evexB != 0 && (modrm >> 6) == 3 ? 2 : vL; break; // EVEX.b on registers: L'L rounds, 512 bits
      case T.K_MODE: child = mode == 64 ? 1 : 0; break;
      case T.K_OSZ: {
        const size = operandSize(mode, vex, vW, opsize16, flag(info, T.FLAG_D64), false);
        child = size == 2 ? 0 : size == 4 ? 1 : 2;
        break;
      }
      case T.K_ASZ: child = asz == 2 ? 0 : asz == 4 ? 1 : 2; break;
      default: child = vB; // K_REXB
    }
    index = <u32>(info & 0xffff) + child;
    info = entryInfo(index);
    kind = <u32>(info >> 16) & 15;
  }
  if (kind == T.K_INVALID) return finish(start, end, p, out, O.ST_INVALID);
  const mod3 = (modrm >> 6) == 3 || flag(info, T.FLAG_REG);
  if (lock && !(flag(info, T.FLAG_LOCK) && !mod3)) return finish(start, end, p, out, O.ST_INVALID);
  // Unused vvvv must be 1111 (and EVEX.V' 1, but an EVEX VSIB form takes V' for its index).
  if (vex != 0 && !flag(info, T.FLAG_USESVVVV) && (vvvv | (flag(info, T.FLAG_EVEXVSIB) ? 0 : vV2)) != 0) return finish(start, end, p, out, O.ST_INVALID);
  if (vex == 2) {
    // EVEX: zeroing needs an opmask; forms without opmasking, zeroing of a memory or opmask destination,
    // and EVEX.b where the form neither broadcasts (memory) nor rounds (register) are #UD.
    if ((evexZ != 0 && evexA == 0) || (flag(info, T.FLAG_NOMASK) && (evexA | evexZ) != 0) || (evexZ != 0 && ((!mod3 && flag(info, T.FLAG_MEMDEST)) || flag(info, T.FLAG_KDEST)))) return finish(start, end, p, out, O.ST_INVALID);
    if (evexB != 0 && !flag(info, mod3 ? T.FLAG_ER : T.FLAG_BCST)) return finish(start, end, p, out, O.ST_INVALID);
    // Gathers, scatters and their prefetches run under an opmask, which they clear as they go.
    if (flag(info, T.FLAG_EVEXVSIB) && (evexA == 0 || evexZ != 0)) return finish(start, end, p, out, O.ST_INVALID);
    // L'L = 3 is reserved, unless EVEX.b on a register form makes it a rounding mode.
    if (vL == 3 && (evexB == 0 || !mod3)) return finish(start, end, p, out, O.ST_INVALID);
    // The FP16 complex multiplies accumulate into the destination: it must not be a source.
    if (flag(info, T.FLAG_UNIQUE)) {
      const dest = ((modrm >> 3) & 7) | (vR << 3) | (vR2 << 4);
      if (dest == (vvvv | (vV2 << 4)) || (mod3 && dest == ((modrm & 7) | (vB << 3) | (vX << 4)))) return finish(start, end, p, out, O.ST_INVALID);
    }
    // Static rounding takes L'L for the rounding mode: the vector length is 512 bits.
    if (evexB != 0 && mod3) {
      evexRounding = flag(info, T.FLAG_SAE) ? O.EV_SAE : O.EV_ROUNDING | (vL << O.EV_ROUNDING_SHIFT);
      vL = 2;
    }
  }
  const osz = operandSize(mode, vex, vW, opsize16, flag(info, T.FLAG_D64), flag(info, T.FLAG_F64));

  // Operands, from the leaf's operand words.
  const words = entryOperands(index);
  const rm = (modrm & 7) | (vB << 3);
  const reg = ((modrm >> 3) & 7) | (vR << 3);
  const hasRex = rex != 0;
  let count: u32 = 0;
  let memory = false;
  let branch = false; // a near branch operand waits for the instruction's length
  let flags: u32 = 0;
  let form: u32 = 0; // O.FM_*
  let size0: u32 = 0; // size of operand 0
  for (let i: u32 = 0; i < 4; i++) {
    const w = <u32>(words >> (16 * i)) & 0xffff;
    if (w == 0) break;
    const method = w & 31;
    const s = (w >> 5) & 31;
    let register: u32 = 0; // a register operand's id
    let size: u32 = 0; // a memory or string operand's size
    count++;
    switch (method) {
      case T.M_E: case T.M_W: case T.M_Q: {
        if (!mod3) {
          if (evexB != 0 && vex == 2) {
            // A broadcast reads one element; the formatter shows how many copies fill the operand.
            size = flag(info, T.FLAG_BCST16) ? 2 : vW != 0 ? 8 : 4;
            store<u8>(out, <u8>(sizeBytes(s, osz, mode, vW, vL) / size), O.O_BROADCAST_COUNT);
          } else size = sizeBytes(s, osz, mode, vW, vL);
          memoryOperand(out, i, size, segment, memBase, memIndex, memScale, vex == 2 && dispIs8 ? memDisp * <i64>disp8Scale(info, size, vW) : memDisp);
          memory = true;
        } else if (method == T.M_E) register = R.gpr(registerBytes(s, osz, mode, vW, vL), rm, hasRex);
        else if (method == T.M_W) register = vectorBank(s, vL) + (rm | (vex == 2 ? vX << 4 : 0));
        else register = R.R_MM0 + (modrm & 7);
        break;
      }
      case T.M_M: {
        if (mod3) return finish(start, end, p, out, O.ST_INVALID);
        if ((w >> 10) != 0 && sibIndex == 0xff) return finish(start, end, p, out, O.ST_INVALID); // no SIB
        if (((w >> 10) & 1) != 0) {
          // VSIB: the index is a vector register (xmm4 too, and with EVEX.V' up to 31). A gather's
          // destination must differ from the index and, under VEX, both from the mask in vvvv.
          const index = sibIndex | (vV2 << 4);
          if (vex == 2) {
            if (i != 0 && (reg | (vR2 << 4)) == index) return finish(start, end, p, out, O.ST_INVALID);
          } else if ((reg == vvvv) || sibIndex == reg || sibIndex == vvvv) return finish(start, end, p, out, O.ST_INVALID);
          // The index has the vector length (bit 11) or half of it (bit 12), else it is an xmm.
          const bank = ((w >> 11) & 1) != 0 ? (vL == 0 ? R.R_XMM0 : vL == 1 ? R.R_YMM0 : R.R_ZMM0) : ((w >> 12) & 1) != 0 && vL == 2 ? R.R_YMM0 : R.R_XMM0;
          memIndex = bank + index;
        }
        if (s == T.S_P) form |= O.FM_FAR;
        size = sizeBytes(s, osz, mode, vW, vL);
        memoryOperand(out, i, size, segment, memBase, memIndex, memScale, vex == 2 && dispIs8 ? memDisp * <i64>size : memDisp);
        memory = true;
        break;
      }
      case T.M_G: register = R.gpr(registerBytes(s, osz, mode, vW, vL), reg, hasRex); break;
      case T.M_R: register = R.gpr(registerBytes(s, osz, mode, vW, vL), rm, hasRex); break;
      case T.M_V: register = vectorBank(s, vL) + (reg | (vR2 << 4)); break;
      case T.M_U: register = vectorBank(s, vL) + (rm | (vex == 2 ? vX << 4 : 0)); break;
      case T.M_H: register = vectorBank(s, vL) + (vvvv | (vV2 << 4)); break;
      case T.M_B: register = R.gpr(sizeBytes(s, osz, mode, vW, vL), vvvv, false); break;
      case T.M_P: register = R.R_MM0 + ((modrm >> 3) & 7); break;
      case T.M_N: register = R.R_MM0 + (modrm & 7); break;
      case T.M_T:
        register = R.R_ST0 + (modrm & 7);
        form |= i == 0 ? O.FM_STI0 : O.FM_STI1;
        break;
      case T.M_Z: register = R.gpr(sizeBytes(s, osz, mode, vW, vL), (opcode & 7) | (vB << 3), hasRex); break;
      case T.M_S: {
        // Six segment registers, and CS cannot be loaded with MOV.
        const n = (modrm >> 3) & 7;
        if (n > 5 || (n == 1 && i == 0)) return finish(start, end, p, out, O.ST_INVALID);
        register = R.R_ES + n;
        break;
      }
      case T.M_C: {
        if (((1 << reg) & VALID_CR) == 0) return finish(start, end, p, out, O.ST_INVALID);
        register = R.R_CR0 + reg;
        break;
      }
      case T.M_D: {
        if (reg > 7) return finish(start, end, p, out, O.ST_INVALID);
        register = R.R_DR0 + reg;
        break;
      }
      case T.M_L: {
        const imm = <u32>load<u8>(p++);
        const n = imm >> 4;
        register = vectorBank(s, vL) + (mode == 64 ? n : n & 7);
        if (flag(info, T.FLAG_IMM4)) {
          // VPERMIL2PS/PD: imm8[3:0] is a fifth operand, in the record's immediate.
          store<u8>(out, <u8>O.OK_IMMEDIATE, O.O_KIND4);
          store<u64>(out, <u64>(imm & 15), O.O_IMMEDIATE);
          count++;
        }
        break;
      }
      case T.M_I: case T.M_IS: {
        // The second immediate of ENTER gets its own slot.
        const n = method == T.M_IS ? 1 : s == T.S_V ? osz : s == T.S_Z ? (osz == 2 ? 2 : 4) : sizeBytes(s, osz, mode, vW, vL);
        const signed = method == T.M_IS || (s == T.S_Z && osz == 8);
        if (i > 0 && load<u8>(out + i - 1, O.O_KINDS) == O.OK_IMMEDIATE) {
          store<u8>(out + i, <u8>O.OK_IMMEDIATE2, O.O_KINDS);
          store<u16>(out, <u16>immediate(p, n, false), O.O_IMMEDIATE2);
        } else {
          store<u8>(out + i, <u8>O.OK_IMMEDIATE, O.O_KINDS);
          store<u64>(out, immediate(p, n, signed), O.O_IMMEDIATE);
          if (i == 0) size0 = osz;
        }
        p += n;
        break;
      }
      case T.M_J: {
        const n: u32 = s == T.S_B ? 1 : osz == 2 ? 2 : 4;
        if (n == 1) form |= O.FM_SHORT;
        store<u8>(out + i, <u8>O.OK_NEAR_BRANCH, O.O_KINDS);
        branch = true;
        store<u64>(out, immediate(p, n, true), O.O_IMMEDIATE);
        p += n;
        break;
      }
      case T.M_O: {
        form |= O.FM_MOFFS;
        size = sizeBytes(s, osz, mode, vW, vL);
        memoryOperand(out, i, size, segment, R.R_NONE, R.R_NONE, 1, <i64>immediate(p, asz, false));
        p += asz;
        memory = true;
        break;
      }
      case T.M_A: {
        const n: u32 = osz == 2 ? 2 : 4;
        store<u8>(out + i, <u8>O.OK_FAR_BRANCH, O.O_KINDS);
        store<u64>(out, immediate(p, n, false), O.O_IMMEDIATE);
        store<u16>(out, load<u16>(p + n), O.O_IMMEDIATE2);
        p += n + 2;
        break;
      }
      case T.M_X: case T.M_XL: {
        const bank = asz == 8 ? R.R_RAX : asz == 4 ? R.R_EAX : R.R_AX;
        if (method == T.M_XL) {
          size = 1;
          memoryOperand(out, i, 1, segment, bank + R.N_BX, R.R_AL, 1, 0);
        } else {
          size = sizeBytes(s, osz, mode, vW, vL);
          store<u8>(out + i, <u8>O.OK_STRING_SOURCE, O.O_KINDS);
          store<u8>(out + i, <u8>(bank + R.N_SI), O.O_REGISTERS);
          store<u8>(out, <u8>(segment != 0 ? segment : R.R_DS), O.O_SEGMENT);
          store<u16>(out, <u16>size, O.O_MEMORY_SIZE);
          flags |= O.FL_READ;
        }
        memory = true;
        break;
      }
      case T.M_K: case T.M_KH: {
        // Opmask registers, or (with the bank bit) AMX tiles, which must all differ.
        // There are eight of each: an extension bit (VEX/EVEX.R, R', the top of vvvv, V') is invalid.
        const tile = (w >> 10) != 0;
        const n = method == T.M_K ? reg | (vR2 << 4) : vvvv | (vV2 << 4);
        const three = flag(info, T.FLAG_USESVVVV); // tdp*: destination, r/m and vvvv tiles
        if (n > 7 || (tile && three && (n == rm || (method == T.M_K && n == vvvv)))) return finish(start, end, p, out, O.ST_INVALID);
        register = (tile ? R.R_TMM0 : R.R_K0) + (n & 7);
        break;
      }
      case T.M_KR: {
        if (mod3) register = ((w >> 10) != 0 ? R.R_TMM0 : R.R_K0) + (modrm & 7);
        else {
          size = sizeBytes(s, osz, mode, vW, vL);
          memoryOperand(out, i, size, segment, memBase, memIndex, memScale, memDisp);
          memory = true;
        }
        break;
      }
      case T.M_XD: {
        // MASKMOVQ's implicit destination: DS:[rDI], or the segment override.
        const bank = asz == 8 ? R.R_RAX : asz == 4 ? R.R_EAX : R.R_AX;
        size = sizeBytes(s, osz, mode, vW, vL);
        memoryOperand(out, i, size, segment, bank + R.N_DI, R.R_NONE, 1, 0);
        memory = true;
        break;
      }
      case T.M_Y: {
        const bank = asz == 8 ? R.R_RAX : asz == 4 ? R.R_EAX : R.R_AX;
        size = sizeBytes(s, osz, mode, vW, vL);
        store<u8>(out + i, <u8>O.OK_STRING_DESTINATION, O.O_KINDS);
        store<u8>(out + i, <u8>(bank + R.N_DI), O.O_REGISTERS);
        store<u16>(out, <u16>size, O.O_MEMORY_SIZE);
        memory = true;
        break;
      }
      default: {
        // Fixed operands: a register named by the table, or the constant 1 of the shift group.
        const f = w >> 10;
        if (f == T.F_1) {
          store<u8>(out + i, <u8>O.OK_IMMEDIATE, O.O_KINDS);
          store<u64>(out, 1, O.O_IMMEDIATE);
          if (i == 0) size0 = osz;
        } else register = fixedRegister(f, osz);
      }
    }
    if (register != 0) {
      store<u8>(out + i, <u8>O.OK_REGISTER, O.O_KINDS);
      store<u8>(out + i, <u8>register, O.O_REGISTERS);
      if (i == 0) size0 = register < R.R_EIP ? gprSize(register) : registerSize(register, mode);
    } else if (i == 0 && size != 0) size0 = size;
  }
  if (memory) flags |= <u32>(info >> T.FLAG_ACCESS) & 3;
  if (vex == 2) {
    store<u8>(out, <u8>(evexA == 0 ? 0 : R.R_K0 + evexA), O.O_MASK);
    store<u8>(out, <u8>(evexZ | (evexB != 0 && !mod3 ? O.EV_BROADCAST : 0) | evexRounding), O.O_EVEX);
  }
  if (lock) flags |= O.FL_LOCK;
  if (vex == 0 && rep == 2 && !mandatory) flags |= O.FL_REP;
  if (vex == 0 && rep == 3 && !mandatory) flags |= O.FL_REPNE;
  // What the formatter needs to know of the prefixes; the decoder itself has used them up.
  store<u8>(out, <u8>((segment != 0 ? segment - R.R_ES + 1 : 0) | (opsize16 ? O.PF_OPSIZE : 0) | (addrOverride ? O.PF_ADDRSIZE : 0) | (mandatory ? O.PF_MANDATORY : 0) | (vex == 0 && vW != 0 ? O.PF_REXW : 0)), O.O_PREFIXES);
  store<u8>(out, <u8>form, O.O_FORM);
  store<u8>(out, <u8>flags, O.O_FLAGS);
  store<u8>(out, <u8>count, O.O_OPERAND_COUNT);
  store<u8>(out, <u8>size0, O.O_OPERAND_SIZE);
  store<u16>(out, <u16>(info & 0xffff), O.O_MNEMONIC);
  store<u8>(out, <u8>asz, O.O_ADDRESS_SIZE);
  // finish(), inlined for the common case.
  const length = p <= end && p - start <= 15 ? <u32>(p - start) : finish(start, end, p, out, O.ST_OK);
  store<u8>(out, <u8>length, O.O_LENGTH);
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

// @ts-ignore: decorator
@inline function operandSize(mode: u32, vex: u32, vW: u32, opsize16: bool, d64: bool, f64: bool): u32 {
  if (mode == 64) {
    if (vW != 0 && vex == 0) return 8;
    if (f64) return 8;
    if (opsize16) return 2;
    return d64 ? 8 : 4;
  }
  return (mode == 16) != opsize16 ? 2 : 4;
}

/** Writes the record's length and status; returns the length. */
function finish(start: usize, end: usize, p: usize, out: usize, status: u32): u32 {
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
// @ts-ignore: decorator
@inline function sizeBytes(s: u32, osz: u32, mode: u32, vW: u32, vL: u32): u32 {
  // The two sizes most operands have, without the call.
  if (s == T.S_V) return osz;
  if (s == T.S_B) return 1;
  return otherSizeBytes(s, osz, mode, vW, vL);
}

export function otherSizeBytes(s: u32, osz: u32, mode: u32, vW: u32, vL: u32): u32 {
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
    case T.S_M384: return 48;
    default: return 0;
  }
}

/** EVEX disp8*N: the memory operand's size, or one element's for the Tuple1 forms (compress/expand). */
// @ts-ignore: decorator
@inline function disp8Scale(info: u64, size: u32, vW: u32): u32 {
  const tuple1 = <u32>(info >> T.FLAG_TUPLE1) & 3;
  if (tuple1 == 0) return size;
  return tuple1 == 3 ? (vW != 0 ? 8 : 4) : tuple1;
}

/** Size of the register form where it differs from the memory form (Evw, Eyb, Eyw, Eyd). */
// @ts-ignore: decorator
@inline function registerBytes(s: u32, osz: u32, mode: u32, vW: u32, vL: u32): u32 {
  if (s == T.S_V) return osz; // the common case first
  if (s == T.S_VW) return osz;
  if (s == T.S_YB || s == T.S_YW || s == T.S_YD) return vW != 0 ? 8 : 4;
  return sizeBytes(s, osz, mode, vW, vL);
}

/** The vector register bank (xmm, ymm, zmm) of size code s. */
function vectorBank(s: u32, vL: u32): u32 {
  if (s == T.S_X) return vL == 0 ? R.R_XMM0 : vL == 1 ? R.R_YMM0 : R.R_ZMM0;
  if (s == T.S_HX) return vL == 2 ? R.R_YMM0 : R.R_XMM0;
  if (s == T.S_QQ) return R.R_YMM0;
  return R.R_XMM0;
}

/** The immediate of n bytes at p, sign-extended when signed. */
// @ts-ignore: decorator
@inline function immediate(p: usize, n: u32, signed: bool): u64 {
  if (n == 1) return signed ? <u64><i64>load<i8>(p) : <u64>load<u8>(p);
  if (n == 2) return signed ? <u64><i64>load<i16>(p) : <u64>load<u16>(p);
  if (n == 4) return signed ? <u64><i64>load<i32>(p) : <u64>load<u32>(p);
  return load<u64>(p);
}

// @ts-ignore: decorator
@inline function memoryOperand(out: usize, i: u32, size: u32, segment: u32, base: u32, index: u32, scale: u32, disp: i64): void {
  store<u8>(out + i, <u8>O.OK_MEMORY, O.O_KINDS);
  let seg = segment;
  if (seg == 0) {
    const sp = base == R.R_RAX + R.N_SP || base == R.R_EAX + R.N_SP || base == R.R_AX + R.N_SP;
    const bp = base == R.R_RAX + R.N_BP || base == R.R_EAX + R.N_BP || base == R.R_AX + R.N_BP;
    seg = sp || bp ? R.R_SS : R.R_DS;
  }
  store<u8>(out, <u8>seg, O.O_SEGMENT);
  store<u8>(out, <u8>base, O.O_BASE);
  store<u8>(out, <u8>index, O.O_INDEX);
  store<u8>(out, <u8>(index == 0 ? 0 : scale), O.O_SCALE);
  store<i64>(out, disp, O.O_DISPLACEMENT);
  store<u16>(out, <u16>size, O.O_MEMORY_SIZE);
}

export function fixedRegister(f: u32, osz: u32): u32 {
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

// @ts-ignore: decorator
@inline function gprSize(r: u32): u32 {
  return r < R.R_AX ? 1 : r < R.R_EAX ? 2 : r < R.R_RAX ? 4 : 8;
}

export function registerSize(r: u32, mode: u32): u32 {
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
