// What the WASM facade and the reference share, so both validate and coalesce the same way.
import { IsolaError } from '@isola/errors';

/** A range of bytes [offset, offset + length). Lists of runs are sorted, non-empty and never touch. */
export interface ByteRun {
  readonly offset: number;
  readonly length: number;
}

/** The largest block size: a qcow2 cluster is at most 2 MiB. */
export const MAX_BLOCK_SIZE = 2 * 1024 * 1024;

export function checkBlockSize(blockSize: number): void {
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > MAX_BLOCK_SIZE || (blockSize & (blockSize - 1)) !== 0) {
    throw new IsolaError('EBLOCK_SIZE', `block size ${blockSize} is not a power of two from 1 to ${MAX_BLOCK_SIZE}`, {
      details: { blockSize },
    });
  }
}

export function checkSameLength(a: Uint8Array, b: Uint8Array): void {
  if (a.length !== b.length) {
    throw new IsolaError('ELENGTH_MISMATCH', `cannot diff ${a.length} bytes against ${b.length} bytes: lengths differ`, {
      details: { a: a.length, b: b.length },
    });
  }
}

/** Appends [offset, offset + length) to sorted runs, merging it into the last run when the two touch. */
export function appendRun(runs: ByteRun[], offset: number, length: number): void {
  const last = runs[runs.length - 1];
  if (last && last.offset + last.length === offset) runs[runs.length - 1] = { offset: last.offset, length: last.length + length };
  else runs.push({ offset, length });
}
