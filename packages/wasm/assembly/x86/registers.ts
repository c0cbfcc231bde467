// Register ids in the order of iced-x86's Register enum, so that an id compares with the oracle as a
// number and src/x86/registers.ts names it. Only the first id of each bank is needed: the rest follow.
export const R_NONE: u32 = 0;
export const R_AL: u32 = 1;
export const R_SPL: u32 = 9; // with a REX prefix, byte registers 4-7 are SPL..DIL instead of AH..BH
export const R_AX: u32 = 21;
export const R_EAX: u32 = 37;
export const R_RAX: u32 = 53;
export const R_EIP: u32 = 69;
export const R_RIP: u32 = 70;
export const R_ES: u32 = 71;
export const R_CS: u32 = 72;
export const R_SS: u32 = 73;
export const R_DS: u32 = 74;
export const R_XMM0: u32 = 77;
export const R_YMM0: u32 = 109;
export const R_ZMM0: u32 = 141;
export const R_K0: u32 = 173;
export const R_CR0: u32 = 185;
export const R_DR0: u32 = 201;
export const R_ST0: u32 = 217;
export const R_MM0: u32 = 225;
export const R_TMM0: u32 = 241;

// Register numbers within a bank.
export const N_CX: u32 = 1;
export const N_DX: u32 = 2;
export const N_BX: u32 = 3;
export const N_SP: u32 = 4;
export const N_BP: u32 = 5;
export const N_SI: u32 = 6;
export const N_DI: u32 = 7;

/** The general register number n (0-15) of the given byte size; rex: a REX prefix is present. */
// @ts-ignore: decorator
@inline export function gpr(size: u32, n: u32, rex: bool): u32 {
  if (size == 1) return rex && n >= 4 ? R_SPL - 4 + n : R_AL + n;
  if (size == 2) return R_AX + n;
  if (size == 4) return R_EAX + n;
  return R_RAX + n;
}
