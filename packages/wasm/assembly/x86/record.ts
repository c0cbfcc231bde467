// The fixed-size record the decoder writes per instruction; src/x86/record.ts reads the same layout.
// Fixed size so the facade can index records without parsing, and so one batch needs no allocation.
export const RECORD_SIZE: u32 = 48;

export const O_LENGTH: u32 = 0; // u8
export const O_STATUS: u32 = 1; // u8, ST_*
export const O_MNEMONIC: u32 = 2; // u16
export const O_MEMORY_SIZE: u32 = 4; // u16, bytes the memory operand accesses (0: none or unknown)
export const O_OPERAND_SIZE: u32 = 6; // u8, bytes of operand 0
export const O_ADDRESS_SIZE: u32 = 7; // u8
export const O_FLAGS: u32 = 8; // u8, FL_*
export const O_OPERAND_COUNT: u32 = 9; // u8
export const O_SEGMENT: u32 = 10; // u8 register ids of the memory operand (segment also for string sources)
export const O_BASE: u32 = 11;
export const O_INDEX: u32 = 12;
export const O_SCALE: u32 = 13;
export const O_MASK: u32 = 14; // u8, EVEX opmask register (0: none)
export const O_EVEX: u32 = 15; // u8, EV_*
export const O_KINDS: u32 = 16; // u8 x 4, OK_*
export const O_REGISTERS: u32 = 20; // u8 x 4, register id of each register operand
export const O_DISPLACEMENT: u32 = 24; // i64; moffs and RIP-relative as encoded, not resolved
export const O_IMMEDIATE: u32 = 32; // u64; a near branch's target, sign-extended immediates sign-extended
export const O_IMMEDIATE2: u32 = 40; // u16; ENTER's nesting level, a far pointer's selector
export const O_PREFIXES: u32 = 42; // u8: bits 0-2 the segment prefix (1-6: ES..GS, 0: none), PF_*
export const O_FORM: u32 = 43; // u8, FM_*: what the formatter tells apart that the operands do not
export const O_KIND4: u32 = 44; // u8, OK_* of a fifth operand (VPERMIL2's imm4, an immediate in O_IMMEDIATE)
export const O_BROADCAST_COUNT: u32 = 45; // u8, with EV_BROADCAST: the elements the broadcast fills ({1toN})

export const ST_OK: u32 = 0;
export const ST_INVALID: u32 = 1;
export const ST_TOO_LONG: u32 = 2; // more than 15 bytes
export const ST_TRUNCATED: u32 = 3; // the input ends inside the instruction

export const FL_READ: u32 = 1;
export const FL_WRITE: u32 = 2;
export const FL_LOCK: u32 = 4;
export const FL_REP: u32 = 8; // F3
export const FL_REPNE: u32 = 16; // F2

export const PF_OPSIZE: u32 = 8; // a 66 prefix
export const PF_ADDRSIZE: u32 = 16; // a 67 prefix
export const PF_MANDATORY: u32 = 32; // the 66, F2 or F3 prefix is part of the opcode (not rep, repne, data16)
export const PF_REXW: u32 = 64;

export const FM_SHORT: u32 = 1; // a near branch with an 8-bit displacement
export const FM_FAR: u32 = 2; // a far pointer in memory (call far, jmp far, les...)
export const FM_MOFFS: u32 = 4; // the memory operand is a moffs (A0-A3)
export const FM_STI0: u32 = 8; // operand 0 is ST(i) from ModRM.rm (printed st(i) even for ST(0))
export const FM_STI1: u32 = 16; // operand 1 is

export const EV_ZEROING: u32 = 1;
export const EV_BROADCAST: u32 = 2;
export const EV_SAE: u32 = 4; // EVEX.b on a register form that only suppresses exceptions
export const EV_ROUNDING: u32 = 8; // static rounding (with SAE), the mode in bits 4-5: rn, rd, ru, rz
export const EV_ROUNDING_SHIFT: u32 = 4;

export const OK_NONE: u32 = 0;
export const OK_REGISTER: u32 = 1;
export const OK_MEMORY: u32 = 2;
export const OK_IMMEDIATE: u32 = 3;
export const OK_IMMEDIATE2: u32 = 4;
export const OK_NEAR_BRANCH: u32 = 5;
export const OK_FAR_BRANCH: u32 = 6;
export const OK_STRING_SOURCE: u32 = 7; // segment:[rSI], segment in O_SEGMENT
export const OK_STRING_DESTINATION: u32 = 8; // ES:[rDI]
