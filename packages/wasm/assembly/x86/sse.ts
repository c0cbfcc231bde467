// The SSE instructions KVM gives up on under PVM (pxor, xorps, movq... even between registers): the
// bitwise logic group and the 128/64/32-bit moves between xmm registers, general registers and
// memory, on the xmm file in the emulator's block. VEX forms (which would need the upper ymm halves)
// and MMX forms are left unsupported.
//
// As the CPU does: #UD when CR0.EM is set or CR4.OSFXSR clear, #NM when CR0.TS is set, #GP(0) for a
// misaligned 16-byte operand of anything but the unaligned moves. A 16-byte access is two 8-byte
// ones (KVM's MMIO exits carry at most 8 bytes), both checked before either is made.
import * as T from './tables';
import * as R from './registers';
import * as O from './record';
import { E_CR0, E_CR4, E_XMM, EMU_OK, EMU_UNSUPPORTED, kind, probe, raise, readLinear, readReg, rec, regOf, st, stop, stopped, writeLinear, writeReg } from './emulator';

const CR0_EM: u64 = 4, CR0_TS: u64 = 8, CR4_OSFXSR: u64 = 0x200;
const UD: u32 = 6, NM: u32 = 7, GP: u32 = 13;

export function isSse(mn: u32): bool {
  switch (mn) {
    case T.MN_PXOR: case T.MN_POR: case T.MN_PAND: case T.MN_PANDN:
    case T.MN_XORPS: case T.MN_XORPD: case T.MN_ORPS: case T.MN_ORPD:
    case T.MN_ANDPS: case T.MN_ANDPD: case T.MN_ANDNPS: case T.MN_ANDNPD:
    case T.MN_MOVDQA: case T.MN_MOVDQU: case T.MN_MOVAPS: case T.MN_MOVUPS: case T.MN_MOVAPD: case T.MN_MOVUPD:
    case T.MN_MOVNTDQ: case T.MN_MOVNTPS: case T.MN_MOVNTPD: case T.MN_MOVD: case T.MN_MOVQ:
      return true;
  }
  return false;
}

// @ts-ignore: decorator
@inline function isXmm(i: u32): bool {
  return kind(i) == O.OK_REGISTER && regOf(i) >= R.R_XMM0 && regOf(i) < R.R_XMM0 + 16;
}

// @ts-ignore: decorator
@inline function xmmAt(i: u32): usize {
  return st + E_XMM + (<usize>(regOf(i) - R.R_XMM0) << 4);
}

/** The 16 bytes of operand i (xmm or memory at la) as lo, hi; false when the read did not complete. */
function read128(i: u32, la: u64, aligned: bool): bool {
  if (isXmm(i)) {
    lo = load<u64>(xmmAt(i));
    hi = load<u64>(xmmAt(i), 8);
    return true;
  }
  if (aligned && (la & 15) != 0) {
    raise(GP, 0);
    return false;
  }
  probe(la, 16, false);
  if (stopped != EMU_OK) return false;
  lo = readLinear(la, 8);
  hi = readLinear(la + 8, 8);
  return stopped == EMU_OK;
}

function write128(i: u32, la: u64, aligned: bool, l: u64, h: u64): void {
  if (isXmm(i)) {
    store<u64>(xmmAt(i), l);
    store<u64>(xmmAt(i), h, 8);
    return;
  }
  if (aligned && (la & 15) != 0) {
    raise(GP, 0);
    return;
  }
  probe(la, 16, true);
  writeLinear(la, 8, l);
  writeLinear(la + 8, 8, h);
}

let lo: u64 = 0;
let hi: u64 = 0;

/** Executes an instruction isSse() accepted; returns whether RIP moves on. */
export function executeSse(mn: u32, m: i32, la: u64, memSize: u32): bool {
  const count = <u32>load<u8>(rec, O.O_OPERAND_COUNT);
  // Only the legacy xmm forms: MMX registers (and VEX, which has other mnemonics) are not executed.
  let xmm = false;
  for (let i: u32 = 0; i < count; i++) if (isXmm(i)) xmm = true;
  if (!xmm || count != 2) {
    stop(EMU_UNSUPPORTED);
    return false;
  }
  const cr0 = load<u64>(st, E_CR0);
  if ((cr0 & CR0_EM) != 0 || (load<u64>(st, E_CR4) & CR4_OSFXSR) == 0) {
    raise(UD, 0xffffffff);
    return false;
  }
  if ((cr0 & CR0_TS) != 0) {
    raise(NM, 0xffffffff);
    return false;
  }
  if (mn == T.MN_MOVD || mn == T.MN_MOVQ) return moveLow(m, la, memSize);
  const unaligned = mn == T.MN_MOVDQU || mn == T.MN_MOVUPS || mn == T.MN_MOVUPD;
  if (!read128(1, la, !unaligned)) return false;
  let l = lo, h = hi;
  if (!isMove(mn)) {
    // dst = dst op src: the destination is always a register here.
    const dl = load<u64>(xmmAt(0)), dh = load<u64>(xmmAt(0), 8);
    if (mn == T.MN_PXOR || mn == T.MN_XORPS || mn == T.MN_XORPD) { l ^= dl; h ^= dh; }
    else if (mn == T.MN_POR || mn == T.MN_ORPS || mn == T.MN_ORPD) { l |= dl; h |= dh; }
    else if (mn == T.MN_PAND || mn == T.MN_ANDPS || mn == T.MN_ANDPD) { l &= dl; h &= dh; }
    else { l &= ~dl; h &= ~dh; }
  }
  write128(0, la, !unaligned, l, h);
  return stopped == EMU_OK;
}

function isMove(mn: u32): bool {
  return mn == T.MN_MOVDQA || mn == T.MN_MOVDQU || mn == T.MN_MOVAPS || mn == T.MN_MOVUPS || mn == T.MN_MOVAPD || mn == T.MN_MOVUPD
    || mn == T.MN_MOVNTDQ || mn == T.MN_MOVNTPS || mn == T.MN_MOVNTPD;
}

/** MOVD/MOVQ: the low 4 or 8 bytes; into an xmm register the rest is zeroed. */
function moveLow(m: i32, la: u64, memSize: u32): bool {
  let size: u32 = memSize;
  let v: u64;
  if (m == 1) v = readLinear(la, memSize);
  else if (isXmm(1)) {
    v = load<u64>(xmmAt(1));
    if (size == 0) size = kind(0) == O.OK_REGISTER && !isXmm(0) && regOf(0) < R.R_RAX ? 4 : 8;
  } else {
    size = regOf(1) >= R.R_RAX ? 8 : 4;
    v = readReg(regOf(1));
  }
  if (stopped != EMU_OK) return false;
  if (size == 4) v &= 0xffffffff;
  if (m == 0) writeLinear(la, size, v);
  else if (isXmm(0)) {
    store<u64>(xmmAt(0), v);
    store<u64>(xmmAt(0), 0, 8);
  } else writeReg(regOf(0), v);
  return stopped == EMU_OK;
}
