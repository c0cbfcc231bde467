// x86 instruction decoding (16-, 32- and 64-bit code), run by assembly/x86.ts. Code is copied into
// linear memory one chunk at a time, one call per chunk; each call fills an array of fixed-size records
// (record.ts). decodeAll turns them into objects; decodeBatches hands out the records themselves for
// bulk use, with accessors, which is several times faster than building an object per instruction.
import { IsolaError } from '@isola/errors';
import { loadWasm } from '../loader.js';
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

interface X86Exports {
  decode(code: number, length: number, bits: number, ip: bigint, out: number, maxCount: number, final: number): number;
  consumed(): number;
  padding(): number;
}

// 64 KiB of code and its records (at most one per byte, capped) stay within L2 between copy and decode.
const CHUNK = 64 * 1024;
const MAX_RECORDS = 16 * 1024;

/**
 * Records of consecutive instructions. `records` is a buffer the sweep reuses: it holds this batch
 * until the generator resumes (copy it, e.g. with records.slice(), to keep it longer). A fresh
 * allocation per batch cost about 10% of the sweep in allocation and garbage collection.
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

/**
 * Decodes code from its first byte to its end, one instruction after another (a linear sweep): an
 * invalid instruction is reported with the bytes it was found in, and decoding resumes after them.
 */
export function* decodeBatches(code: Uint8Array, options: DecodeOptions): Generator<InstructionBatch> {
  checkOptions(options);
  const wasm = loadWasm<X86Exports>('x86');
  const pad = wasm.exports.padding();
  const codePtr = wasm.heapBase;
  const outPtr = codePtr + CHUNK + pad;
  wasm.reserve(outPtr + MAX_RECORDS * RECORD_SIZE - codePtr);
  const ip = options.ip ?? 0n;
  let records: Uint8Array | undefined;
  for (let base = 0; base < code.length; ) {
    const length = Math.min(CHUNK, code.length - base);
    const final = base + length === code.length;
    const memory = wasm.reserve(0);
    memory.set(code.subarray(base, base + length), codePtr);
    // Bytes past the end decide nothing, but zeroing them keeps a cut instruction's report deterministic.
    memory.fill(0, codePtr + length, codePtr + length + pad);
    const count = wasm.exports.decode(codePtr, length, options.bitness, ip + BigInt(base), outPtr, MAX_RECORDS, final ? 1 : 0);
    records ??= new Uint8Array(Math.min(MAX_RECORDS, code.length) * RECORD_SIZE);
    records.set(memory.subarray(outPtr, outPtr + count * RECORD_SIZE));
    yield new InstructionBatch(base, count, records.subarray(0, count * RECORD_SIZE), ip, options.bitness);
    base += wasm.exports.consumed();
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
  const first = decodeBatches(bytes.subarray(0, 15), options).next();
  if (first.done) {
    throw new IsolaError('EX86_EMPTY', 'cannot decode an instruction from 0 bytes', { details: { length: 0 } });
  }
  return first.value.instruction(0, 0);
}

/** The name of a mnemonic id from InstructionBatch.mnemonicId. */
export function mnemonicName(id: number): string {
  return MNEMONICS[id];
}
