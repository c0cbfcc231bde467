// Reads the fixed-size records assembly/x86/record.ts lays out (keep the two in step) into typed
// instructions. Register ids are turned into names here and nowhere else.
import { MNEMONICS, type Mnemonic } from './mnemonics.js';
import { REGISTERS, type Register } from './registers.js';

export const RECORD_SIZE = 48;

const O_LENGTH = 0;
const O_STATUS = 1;
const O_MNEMONIC = 2;
const O_MEMORY_SIZE = 4;
const O_OPERAND_SIZE = 6;
const O_ADDRESS_SIZE = 7;
const O_FLAGS = 8;
const O_OPERAND_COUNT = 9;
const O_SEGMENT = 10;
const O_BASE = 11;
const O_INDEX = 12;
const O_SCALE = 13;
const O_MASK = 14;
const O_EVEX = 15;
const O_KINDS = 16;
const O_REGISTERS = 20;
const O_DISPLACEMENT = 24;
const O_IMMEDIATE = 32;
const O_IMMEDIATE2 = 40;
const O_PREFIXES = 42;
const O_FORM = 43;
const O_KIND4 = 44; // the kind of a fifth operand (VPERMIL2's imm4); O_KINDS holds four
const O_BROADCAST_COUNT = 45;

const FL_READ = 1;
const FL_WRITE = 2;
const FL_LOCK = 4;
const FL_REP = 8;
const FL_REPNE = 16;

const PF_SEGMENT = 7;
const PF_OPSIZE = 8;
const PF_ADDRSIZE = 16;
const PF_MANDATORY = 32;
const PF_REXW = 64;
const FM_SHORT = 1;
const FM_FAR = 2;
const FM_MOFFS = 4;
const FM_STI0 = 8;
const FM_STI1 = 16;
const SEGMENTS = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;
const EV_ZEROING = 1;
const EV_BROADCAST = 2;
const EV_SAE = 4;
const EV_ROUNDING = 8;
const ROUNDING_MODES = ['rn', 'rd', 'ru', 'rz'] as const;

const OK_REGISTER = 1;
const OK_MEMORY = 2;
const OK_IMMEDIATE = 3;
const OK_IMMEDIATE2 = 4;
const OK_NEAR_BRANCH = 5;
const OK_FAR_BRANCH = 6;
const OK_STRING_SOURCE = 7;
const OK_STRING_DESTINATION = 8;

export const STATUSES = ['ok', 'invalid', 'too-long', 'truncated'] as const;
/** invalid: no such encoding (or a prefix it forbids); too-long: over 15 bytes; truncated: the input ends inside it. */
export type InstructionStatus = (typeof STATUSES)[number];

export interface MemoryOperand {
  readonly kind: 'memory';
  /** The segment the access uses: the override, or the default (SS for rSP/rBP bases, ES for string destinations). */
  readonly segment: Register;
  /** rip/eip for RIP-relative addressing: the address is then the next instruction's address + displacement. */
  readonly base: Register | null;
  readonly index: Register | null;
  readonly scale: 1 | 2 | 4 | 8;
  /** Sign-extended; a moffs (A0-A3) address zero-extended. */
  readonly displacement: bigint;
  /** Bytes accessed; 0 when the instruction does not say (LEA, XSAVE's variable area). */
  readonly size: number;
}

export type Operand =
  | { readonly kind: 'register'; readonly register: Register }
  | MemoryOperand
  /** Sign-extended immediates (imm8 of 83 /r, imm32 of 64-bit ops) are sign-extended to 64 bits. */
  | { readonly kind: 'immediate'; readonly value: bigint }
  | { readonly kind: 'nearBranch'; readonly target: bigint }
  | { readonly kind: 'farBranch'; readonly selector: number; readonly offset: number };

/** Prefixes as the encoding has them (the decoded fields already account for them). */
export interface InstructionPrefixes {
  /** The segment override in effect (in 64-bit mode an FS/GS prefix wins over ES, CS, SS and DS). */
  readonly segment: Register | null;
  /** 66 and 67 are present. */
  readonly operandSize: boolean;
  readonly addressSize: boolean;
  /** The 66, F2 or F3 prefix is part of the opcode (as in popcnt or movdqa), not data16, rep or repne. */
  readonly mandatory: boolean;
  /** REX.W (legacy encodings only). */
  readonly rexW: boolean;
}

export interface DecodedInstruction {
  readonly ip: bigint;
  readonly bitness: 16 | 32 | 64;
  readonly length: number;
  readonly status: InstructionStatus;
  /** 'invalid' unless status is 'ok'. */
  readonly mnemonic: Mnemonic;
  /** Size in bytes of the first operand (0 without operands). */
  readonly operandSize: number;
  readonly addressSize: 2 | 4 | 8;
  readonly operands: readonly Operand[];
  /** How the instruction's explicit memory operands are accessed; null when it has none. */
  readonly memory: { readonly read: boolean; readonly write: boolean; readonly size: number } | null;
  readonly lock: boolean;
  readonly rep: boolean;
  readonly repne: boolean;
  /** EVEX opmask register and zeroing; null without EVEX masking. */
  readonly mask: { readonly register: Register; readonly zeroing: boolean } | null;
  readonly broadcast: boolean;
  /** With broadcast: how many copies of the element fill the operand (the N of {1toN}); else 0. */
  readonly broadcastCount: number;
  /** EVEX static rounding on a register form (round to nearest even, down, up, toward zero), which implies SAE. */
  readonly rounding: 'rn' | 'rd' | 'ru' | 'rz' | null;
  /** EVEX.b on a register form whose instruction only suppresses exceptions (no rounding mode). */
  readonly sae: boolean;
  readonly prefixes: InstructionPrefixes;
  /** The branch displacement is 8 bits (jcc/jmp short). */
  readonly short: boolean;
  /** The memory operand is a far pointer (call far, jmp far, les, lds...). */
  readonly far: boolean;
  /** The memory operand is a moffs: an address in the instruction without ModRM (A0-A3). */
  readonly moffs: boolean;
  /** The operand that is the x87 ST(i) of ModRM.rm (as opposed to an implicit ST(0)), or null. */
  readonly stOperand: number | null;
}

const NO_PREFIXES: InstructionPrefixes = { segment: null, operandSize: false, addressSize: false, mandatory: false, rexW: false };

function register(id: number): Register | null {
  return id === 0 ? null : (REGISTERS[id] as Register);
}

/** The instruction in the record at byte offset `at` of view. */
export function readRecord(view: DataView, at: number, ip: bigint, bitness: 16 | 32 | 64): DecodedInstruction {
  const u8 = (o: number) => view.getUint8(at + o);
  const status = STATUSES[u8(O_STATUS)];
  const length = u8(O_LENGTH);
  if (status !== 'ok') {
    return { ip, bitness, length, status, mnemonic: 'invalid', operandSize: 0, addressSize: 8, operands: [], memory: null, lock: false, rep: false, repne: false, mask: null, broadcast: false, broadcastCount: 0, rounding: null, sae: false, prefixes: NO_PREFIXES, short: false, far: false, moffs: false, stOperand: null };
  }
  const flags = u8(O_FLAGS);
  const memorySize = view.getUint16(at + O_MEMORY_SIZE, true);
  const operands: Operand[] = [];
  let hasMemory = false;
  for (let i = 0; i < u8(O_OPERAND_COUNT); i++) {
    const kind = u8(i < 4 ? O_KINDS + i : O_KIND4);
    const reg = i < 4 ? u8(O_REGISTERS + i) : 0;
    switch (kind) {
      case OK_REGISTER:
        operands.push({ kind: 'register', register: register(reg)! });
        break;
      case OK_MEMORY:
        hasMemory = true;
        operands.push({
          kind: 'memory',
          segment: register(u8(O_SEGMENT))!,
          base: register(u8(O_BASE)),
          index: register(u8(O_INDEX)),
          scale: (u8(O_INDEX) === 0 ? 1 : u8(O_SCALE)) as 1 | 2 | 4 | 8,
          displacement: view.getBigInt64(at + O_DISPLACEMENT, true),
          size: memorySize,
        });
        break;
      case OK_STRING_SOURCE:
      case OK_STRING_DESTINATION:
        hasMemory = true;
        operands.push({
          kind: 'memory',
          segment: kind === OK_STRING_SOURCE ? register(u8(O_SEGMENT))! : 'es',
          base: register(reg),
          index: null,
          scale: 1,
          displacement: 0n,
          size: memorySize,
        });
        break;
      case OK_IMMEDIATE:
        operands.push({ kind: 'immediate', value: view.getBigUint64(at + O_IMMEDIATE, true) });
        break;
      case OK_IMMEDIATE2:
        operands.push({ kind: 'immediate', value: BigInt(view.getUint16(at + O_IMMEDIATE2, true)) });
        break;
      case OK_NEAR_BRANCH:
        operands.push({ kind: 'nearBranch', target: view.getBigUint64(at + O_IMMEDIATE, true) });
        break;
      case OK_FAR_BRANCH:
        operands.push({ kind: 'farBranch', selector: view.getUint16(at + O_IMMEDIATE2, true), offset: Number(view.getBigUint64(at + O_IMMEDIATE, true)) });
        break;
    }
  }
  const mask = register(u8(O_MASK));
  const evex = u8(O_EVEX);
  const prefixes = u8(O_PREFIXES);
  return {
    ip,
    bitness,
    length,
    status,
    mnemonic: MNEMONICS[view.getUint16(at + O_MNEMONIC, true)],
    operandSize: u8(O_OPERAND_SIZE),
    addressSize: u8(O_ADDRESS_SIZE) as 2 | 4 | 8,
    operands,
    memory: hasMemory ? { read: (flags & FL_READ) !== 0, write: (flags & FL_WRITE) !== 0, size: memorySize } : null,
    lock: (flags & FL_LOCK) !== 0,
    rep: (flags & FL_REP) !== 0,
    repne: (flags & FL_REPNE) !== 0,
    mask: mask ? { register: mask, zeroing: (evex & EV_ZEROING) !== 0 } : null,
    broadcast: (evex & EV_BROADCAST) !== 0,
    broadcastCount: (evex & EV_BROADCAST) !== 0 ? u8(O_BROADCAST_COUNT) : 0,
    rounding: (evex & EV_ROUNDING) !== 0 ? ROUNDING_MODES[(evex >> 4) & 3] : null,
    sae: (evex & EV_SAE) !== 0,
    prefixes: {
      segment: (prefixes & PF_SEGMENT) === 0 ? null : SEGMENTS[(prefixes & PF_SEGMENT) - 1],
      operandSize: (prefixes & PF_OPSIZE) !== 0,
      addressSize: (prefixes & PF_ADDRSIZE) !== 0,
      mandatory: (prefixes & PF_MANDATORY) !== 0,
      rexW: (prefixes & PF_REXW) !== 0,
    },
    short: (u8(O_FORM) & FM_SHORT) !== 0,
    far: (u8(O_FORM) & FM_FAR) !== 0,
    moffs: (u8(O_FORM) & FM_MOFFS) !== 0,
    stOperand: (u8(O_FORM) & FM_STI0) !== 0 ? 0 : (u8(O_FORM) & FM_STI1) !== 0 ? 1 : null,
  };
}

/** Fields of a record read without building an object, for bulk use. */
export function recordLength(records: Uint8Array, i: number): number {
  return records[i * RECORD_SIZE + O_LENGTH];
}

export function recordStatus(records: Uint8Array, i: number): InstructionStatus {
  return STATUSES[records[i * RECORD_SIZE + O_STATUS]];
}

export function recordMnemonic(records: Uint8Array, i: number): number {
  const at = i * RECORD_SIZE + O_MNEMONIC;
  return records[at] | (records[at + 1] << 8);
}
