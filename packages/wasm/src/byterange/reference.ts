// The plain TypeScript twin of the WASM facade, one byte at a time: the oracle the facade is tested
// against and the baseline its benchmark measures. Same validation, same results, same errors.
import { type ByteRun, appendRun, checkBlockSize, checkSameLength } from './runs.js';

export type { ByteRun } from './runs.js';

export function zeroRuns(data: Uint8Array, blockSize: number): ByteRun[] {
  checkBlockSize(blockSize);
  return selectBlocks(data.length, blockSize, (start, end) => {
    for (let i = start; i < end; i++) if (data[i] !== 0) return false;
    return true;
  });
}

export function diffRuns(a: Uint8Array, b: Uint8Array, blockSize: number): ByteRun[] {
  checkBlockSize(blockSize);
  checkSameLength(a, b);
  return selectBlocks(a.length, blockSize, (start, end) => {
    for (let i = start; i < end; i++) if (a[i] !== b[i]) return true;
    return false;
  });
}

function selectBlocks(length: number, blockSize: number, selected: (start: number, end: number) => boolean): ByteRun[] {
  const runs: ByteRun[] = [];
  for (let start = 0; start < length; start += blockSize) {
    const end = Math.min(start + blockSize, length);
    if (selected(start, end)) appendRun(runs, start, end - start);
  }
  return runs;
}
