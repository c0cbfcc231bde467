// x86 instruction decoding (16-, 32- and 64-bit code), run by assembly/x86.ts. Code is copied into
// linear memory one chunk at a time, one call per chunk; each call fills an array of fixed-size records
// (record.ts). decodeAll turns them into objects; decodeBatches hands out the records themselves for
// bulk use, in place, with accessors, which is several times faster than building an object per
// instruction. memory.ts says where in the module's memory each sweep works.
import { IsolaError } from '@isola/errors';
import { CHUNK, MAX_RECORDS, type SweepRegion, type X86Memory, x86Memory } from './memory.js';
import { MNEMONICS } from './mnemonics.js';
import { type DecodedInstruction, RECORD_SIZE, readRecord, recordLength, recordMnemonic, recordStatus, type InstructionStatus } from './record.js';

export type { DecodedInstruction, InstructionPrefixes, InstructionStatus, MemoryOperand, Operand } from './record.js';
export type { Mnemonic } from './mnemonics.js';
export type { Register } from './registers.js';
export { MNEMONICS } from './mnemonics.js';
export { formatInstruction, type FormatOptions } from './format.js';

export type Bitness = 16 | 32 | 64;

export interface DecodeOptions {
  bitness: Bitness;
  /** Address of code[0], for branch targets; 0 by default. */
  ip?: bigint;
}

/**
 * Records of consecutive instructions. `records` is valid until the sweep resumes: it is a view of
 * the decoder's own memory (or, when sweeps nest deeply, a buffer the sweep reuses). Copy it, e.g.
 * with records.slice(), to keep it longer.
 */
export class InstructionBatch {
  /** Offset in the input of the first instruction. */
  readonly offset: number;
  readonly count: number;
  /** count records of RECORD_SIZE bytes, in the layout of record.ts. */
  readonly records: Uint8Array;
  private readonly ip: bigint;
  private readonly bitness: Bitness;

  constructor(offset: number, count: number, records: Uint8Array, ip: bigint, bitness: Bitness) {
    this.offset = offset;
    this.count = count;
    this.records = records;
    this.ip = ip;
    this.bitness = bitness;
  }

  length(i: number): number {
    return recordLength(this.records, i);
  }

  status(i: number): InstructionStatus {
    return recordStatus(this.records, i);
  }

  /** Index into MNEMONICS. */
  mnemonicId(i: number): number {
    return recordMnemonic(this.records, i);
  }

  /** The i-th instruction as an object; offsetInBatch: its offset from the batch's first instruction (the sum of the lengths before it). */
  instruction(i: number, offsetInBatch: number): DecodedInstruction {
    const view = new DataView(this.records.buffer, this.records.byteOffset, this.records.byteLength);
    return readRecord(view, i * RECORD_SIZE, this.ip + BigInt(this.offset + offsetInBatch), this.bitness);
  }
}

function checkOptions(options: DecodeOptions): void {
  if (options.bitness !== 16 && options.bitness !== 32 && options.bitness !== 64) {
    throw new IsolaError('EX86_BITNESS', `x86 bitness ${String(options.bitness)} is not 16, 32 or 64`, { details: { bitness: options.bitness } });
  }
}

/** Decodes one chunk of code (at most CHUNK bytes) at base into the region; returns the record count. */
function decodeChunk(memory: X86Memory, region: SweepRegion, code: Uint8Array, base: number, options: DecodeOptions, ip: bigint): number {
  const length = Math.min(CHUNK, code.length - base);
  const bytes = memory.bytes;
  bytes.set(code.subarray(base, base + length), region.code);
  // Bytes past the end decide nothing, but zeroing them keeps a cut instruction's report deterministic.
  bytes.fill(0, region.code + length, region.code + length + memory.padding);
  const final = base + length === code.length ? 1 : 0;
  return memory.exports.decode(region.code, length, options.bitness, ip + BigInt(base), region.records, MAX_RECORDS, final);
}

/**
 * Decodes code from its first byte to its end, one instruction after another (a linear sweep): an
 * invalid instruction is reported with the bytes it was found in, and decoding resumes after them.
 */
export function* decodeBatches(code: Uint8Array, options: DecodeOptions): Generator<InstructionBatch> {
  checkOptions(options);
  const memory = x86Memory();
  const region = memory.acquire();
  const ip = options.ip ?? 0n;
  // Only a sweep on the shared scratch region copies records out (anything may reuse it meanwhile).
  let copies: Uint8Array | undefined;
  try {
    for (let base = 0; base < code.length; ) {
      const count = decodeChunk(memory, region, code, base, options, ip);
      let records = memory.bytes.subarray(region.records, region.records + count * RECORD_SIZE);
      if (!region.leased) {
        copies ??= new Uint8Array(Math.min(MAX_RECORDS, code.length) * RECORD_SIZE);
        copies.set(records);
        records = copies.subarray(0, count * RECORD_SIZE);
      }
      const consumed = memory.exports.consumed();
      yield new InstructionBatch(base, count, records, ip, options.bitness);
      base += consumed;
    }
  } finally {
    memory.release(region);
  }
}

/** Every instruction of code as an object (see decodeBatches for the sweep). */
export function decodeAll(code: Uint8Array, options: DecodeOptions): DecodedInstruction[] {
  const instructions: DecodedInstruction[] = [];
  for (const batch of decodeBatches(code, options)) {
    let offset = 0;
    for (let i = 0; i < batch.count; i++) {
      instructions.push(batch.instruction(i, offset));
      offset += batch.length(i);
    }
  }
  return instructions;
}

/** The first instruction of bytes (status 'truncated' when bytes end inside it). */
export function decodeOne(bytes: Uint8Array, options: DecodeOptions): DecodedInstruction {
  checkOptions(options);
  if (bytes.length === 0) {
    throw new IsolaError('EX86_EMPTY', 'cannot decode an instruction from 0 bytes', { details: { length: 0 } });
  }
  const memory = x86Memory();
  const code = bytes.subarray(0, 15);
  decodeChunk(memory, memory.scratch, code, 0, options, options.ip ?? 0n);
  const view = new DataView(memory.bytes.buffer, memory.scratch.records, RECORD_SIZE);
  return readRecord(view, 0, options.ip ?? 0n, options.bitness);
}

/** The name of a mnemonic id from InstructionBatch.mnemonicId. */
export function mnemonicName(id: number): string {
  return MNEMONICS[id];
}
