// Parsing what the user asked `isola compare` for; no I/O here.
import { IsolaError } from '@isola/errors';

export const DEFAULT_ROUNDS = 5;
/** Iterations of spin.S's two-instruction loop: ~1 s in a guest here (PVM runs ~1 µs per instruction). */
export const DEFAULT_LOOP_ITERATIONS = 1_000_000;

/** `--rounds N`: a whole number from 1 to 100. */
export function parseRounds(text: string | number | undefined): number {
  if (text === undefined) return DEFAULT_ROUNDS;
  const value = String(text);
  if (!/^[0-9]{1,3}$/.test(value) || Number(value) < 1 || Number(value) > 100) {
    throw new IsolaError('EUSAGE', `--rounds ${JSON.stringify(value)}: must be a whole number from 1 to 100`);
  }
  return Number(value);
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
