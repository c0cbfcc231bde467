// INT n and INT3 in long mode, delivered through the IDT as the CPU does it (KVM under PVM fails on
// both): the 16-byte gate, its checks, the target code segment from the GDT, the stack (the current
// one, the TSS's RSP for the new privilege level, or an IST stack), the 16-byte alignment, the
// five-word frame (SS, RSP, RFLAGS, CS, RIP of the next instruction) and the flags a gate clears.
// Legacy-mode delivery, LDT selectors and task gates stop as unsupported; a failed check raises the
// exception the CPU would (#GP or #NP with the IDT or selector error code).
import * as R from './registers';
import { E_BITS, E_CPL, E_CS, E_CS_OUT, E_EFER, E_GDT_BASE, E_GDT_LIMIT, E_IDT_BASE, E_IDT_LIMIT, E_RFLAGS, E_RIP, E_SS, E_SS_OUT, E_SYSTEM, E_TR_BASE, E_VECTOR, EMU_OK, EMU_UNSUPPORTED, nextRip, probe, raise, readLinear, st, stop, stopped, writeLinear } from './emulator';

const NP: u32 = 11, GP: u32 = 13;
const EFER_LMA: u64 = 1 << 10;
const TF: u64 = 0x100, IF: u64 = 0x200, NT: u64 = 0x4000, RF: u64 = 0x10000, VM: u64 = 0x20000;

/** Delivers interrupt vector (software: INT n/INT3, so the gate's DPL is checked); returns false (RIP is set here). */
export function deliver(vector: u32, software: bool): bool {
  if (load<u32>(st, E_SYSTEM) == 0 || load<u32>(st, E_BITS) != 64 || (load<u64>(st, E_EFER) & EFER_LMA) == 0) {
    stop(EMU_UNSUPPORTED);
    return false;
  }
  const cpl = load<u32>(st, E_CPL);
  const idtError = (vector << 3) | 2;
  if (vector * 16 + 15 > load<u32>(st, E_IDT_LIMIT)) return fail(GP, idtError);
  // Descriptor tables and the TSS are read with supervisor rights, whatever the CPL.
  store<u32>(st, 0, E_CPL);
  const gateAt = load<u64>(st, E_IDT_BASE) + <u64>vector * 16;
  probe(gateAt, 16, false);
  if (stopped != EMU_OK) return false;
  const g0 = readLinear(gateAt, 8);
  const g1 = readLinear(gateAt + 8, 8);
  if (stopped != EMU_OK) return false;
  const type = <u32>(g0 >> 40) & 15;
  if (type != 14 && type != 15) return type == 5 ? unsupported() : fail(GP, idtError);
  if (software && (<u32>(g0 >> 45) & 3) < cpl) return fail(GP, idtError);
  if (((g0 >> 47) & 1) == 0) return fail(NP, idtError);
  const selector = <u32>(g0 >> 16) & 0xffff;
  const ist = <u32>(g0 >> 32) & 7;
  const target = (g0 & 0xffff) | (((g0 >> 48) & 0xffff) << 16) | (g1 << 32);
  if ((selector & 0xfffc) == 0) return fail(GP, 0);
  if ((selector & 4) != 0) return unsupported(); // an LDT selector
  if ((selector | 7) > load<u32>(st, E_GDT_LIMIT)) return fail(GP, selector & 0xfffc);
  const code = readLinear(load<u64>(st, E_GDT_BASE) + <u64>(selector & ~7), 8);
  if (stopped != EMU_OK) return false;
  // A 64-bit code segment (S, code, L set; D clear) at a privilege level no less than the CPL's.
  if (((code >> 43) & 3) != 3 || ((code >> 53) & 3) != 1) return fail(GP, selector & 0xfffc);
  const conforming = ((code >> 42) & 1) != 0;
  const dpl = <u32>(code >> 45) & 3;
  if (dpl > cpl) return fail(GP, selector & 0xfffc);
  if (((code >> 47) & 1) == 0) return fail(NP, selector & 0xfffc);
  const newCpl = conforming ? cpl : dpl;
  if (<u64>((<i64>(target << 16)) >> 16) != target) return fail(GP, 0);

  const trBase = load<u64>(st, E_TR_BASE);
  let rsp = load<u64>(st, R.N_SP << 3);
  if (ist != 0) rsp = readLinear(trBase + 36 + <u64>(ist - 1) * 8, 8);
  else if (newCpl < cpl) rsp = readLinear(trBase + 4 + <u64>newCpl * 8, 8);
  if (stopped != EMU_OK) return false;
  rsp &= ~<u64>15;
  const oldSs = <u64>load<u16>(st, E_SS);
  const newSs: u32 = newCpl < cpl ? newCpl : <u32>oldSs; // a null selector with the new RPL
  const rflags = load<u64>(st, E_RFLAGS);
  // The frame, from the highest address down, as the CPU pushes it; all of it checked first.
  store<u32>(st, newCpl, E_CPL);
  const frame = rsp - 40;
  probe(frame, 40, true);
  writeLinear(rsp - 8, 8, oldSs);
  writeLinear(rsp - 16, 8, load<u64>(st, R.N_SP << 3));
  writeLinear(rsp - 24, 8, rflags);
  writeLinear(rsp - 32, 8, <u64>load<u16>(st, E_CS));
  writeLinear(rsp - 40, 8, nextRip);
  if (stopped != EMU_OK) return false;
  store<u64>(st, frame, R.N_SP << 3);
  store<u64>(st, target, E_RIP);
  store<u64>(st, rflags & ~(TF | NT | RF | VM | (type == 14 ? IF : 0)), E_RFLAGS);
  store<u16>(st, <u16>((selector & 0xfffc) | newCpl), E_CS_OUT);
  store<u16>(st, <u16>newSs, E_SS_OUT);
  store<u32>(st, vector, E_VECTOR);
  return false;
}

function fail(vector: u32, errorCode: u32): bool {
  raise(vector, errorCode);
  return false;
}

function unsupported(): bool {
  stop(EMU_UNSUPPORTED);
  return false;
}
