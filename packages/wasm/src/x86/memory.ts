// How the facades of the x86 module share its linear memory. The emulator's block sits at the start;
// after it come sweep regions, each a code chunk (with the decoder's padding) and the records one
// call writes for it. A sweep leases a region for its whole run and hands its callers views of the
// records in place, so a batch costs one copy in and none out. When every region is leased (sweeps
// nested more deeply, or sweeps abandoned without being closed), a sweep falls back to the shared
// scratch region and copies each batch's records out before it yields.
//
// All regions are reserved on first use, so the facades never grow memory under a view they handed out.
import { loadWasm } from '../loader.js';
import { RECORD_SIZE } from './record.js';

export interface X86Exports {
  decode(code: number, length: number, bits: number, ip: bigint, out: number, maxCount: number, final: number): number;
  consumed(): number;
  padding(): number;
  emulate(block: number): number;
  emulatorBlockSize(): number;
}

/** Bytes of code per call. 32 KiB of code and its records stay within L2 between copy and decode. */
export const CHUNK = 32 * 1024;
/** Records per call: most 32 KiB chunks of code hold fewer instructions (2-4 bytes each on average). */
export const MAX_RECORDS = 16 * 1024;
const LEASED_REGIONS = 4;

export interface SweepRegion {
  /** Where the code chunk goes; the decoder may read padding bytes past its end. */
  readonly code: number;
  readonly records: number;
  /** False for the shared scratch region: records must be copied out before anything else runs. */
  readonly leased: boolean;
}

export interface X86Memory {
  readonly exports: X86Exports;
  /** A view of all of the module's memory (a fresh one if something grew it since). */
  readonly bytes: Uint8Array;
  readonly padding: number;
  readonly emulatorBlock: number;
  /** A leased region, or the scratch region when none is free. */
  acquire(): SweepRegion;
  release(region: SweepRegion): void;
  /** The scratch region, for one-off decodes that copy their result out at once. */
  readonly scratch: SweepRegion;
}

let plan: X86Memory | undefined;

const align = (n: number) => (n + 63) & ~63;

export function x86Memory(): X86Memory {
  if (plan) return plan;
  const wasm = loadWasm<X86Exports>('x86');
  const padding = wasm.exports.padding();
  const emulatorBlock = wasm.heapBase;
  const regionSize = align(CHUNK + padding) + MAX_RECORDS * RECORD_SIZE;
  const first = align(emulatorBlock + wasm.exports.emulatorBlockSize());
  const regionAt = (n: number, leased: boolean): SweepRegion => {
    const code = first + n * regionSize;
    return { code, records: code + align(CHUNK + padding), leased };
  };
  let bytes = wasm.reserve(first + (LEASED_REGIONS + 1) * regionSize - wasm.heapBase);
  const free = Array.from({ length: LEASED_REGIONS }, (_, n) => regionAt(n, true));
  const scratch = regionAt(LEASED_REGIONS, false);
  plan = {
    exports: wasm.exports,
    get bytes() {
      if (bytes.byteLength === 0) bytes = wasm.reserve(0); // detached by a grow
      return bytes;
    },
    padding,
    emulatorBlock,
    scratch,
    acquire: () => free.pop() ?? scratch,
    release(region) {
      if (region.leased && !free.includes(region)) free.push(region);
    },
  };
  return plan;
}
