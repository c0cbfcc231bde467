// The hot loop behind src/qcow2/index.ts: classifies a batch of qcow2 L2 entries (big-endian, 8 or 16
// bytes each, copied by the facade to `table`) and coalesces them into runs. Each run is written at `out`
// as 16 bytes: u32 kind, u32 entry count, f64 host offset of the first entry (exact below 2^53, which
// every valid entry is). The facade sizes `out` for one run per entry, so nothing here checks capacity.
//
// Kinds: unallocated and zero runs merge whatever their host offsets; data runs merge while each host
// cluster follows the previous one; OTHER (compressed, mixed subcluster bitmaps, or an entry with
// reserved bits, a misaligned or too large offset) is always a run of one, which the caller decodes with
// the full TypeScript parser, so that error messages stay in one place.

export { heapBase } from './shared/heap';

const UNALLOCATED: u32 = 0;
const ZERO: u32 = 1;
const DATA: u32 = 2;
const OTHER: u32 = 3;

const COMPRESSED_BIT: u64 = 1 << 62;
const COPIED_BIT: u64 = 1 << 63;
// Bits 56..61 and 1..8; bits 53..55 would put the offset beyond 2^53.
const RESERVED: u64 = 0x3f00_0000_0000_01fe;
const BEYOND_2_53: u64 = 0x00e0_0000_0000_0000;
const OFFSET_MASK: u64 = 0x00ff_ffff_ffff_fe00;
const ALL: u32 = 0xffff_ffff;

/** flags: bit 0 extended L2 entries, bit 1 external data file (offset 0 with the copied flag is data). */
export function mapL2(table: usize, count: u32, clusterBits: u32, flags: u32, out: usize): u32 {
  const extended = (flags & 1) != 0;
  const external = (flags & 2) != 0;
  const stride: usize = extended ? 16 : 8;
  const clusterSize: u64 = (<u64>1) << clusterBits;
  const alignMask: u64 = clusterSize - 1;
  let runs: u32 = 0;
  let kind: u32 = ALL; // no run open yet
  let n: u32 = 0;
  let host: u64 = 0;
  let next: u64 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const p = table + <usize>i * stride;
    const e = bswap<u64>(load<u64>(p));
    const offset = e & OFFSET_MASK;
    let k: u32;
    if ((e & COMPRESSED_BIT) != 0 || (e & (RESERVED | BEYOND_2_53)) != 0 || (offset & alignMask) != 0) {
      k = OTHER;
    } else if (extended) {
      const zero = bswap<u32>(load<u32>(p, 8));
      const allocated = bswap<u32>(load<u32>(p, 12));
      if ((e & 1) != 0 || (allocated & zero) != 0) k = OTHER;
      else if (allocated == ALL && zero == 0) k = offset != 0 || external ? DATA : OTHER;
      else if (zero == ALL) k = ZERO;
      else if (allocated == 0 && zero == 0 && offset == 0) k = UNALLOCATED;
      else k = OTHER;
    } else if ((e & 1) != 0) {
      k = ZERO;
    } else if (offset == 0 && !(external && (e & COPIED_BIT) != 0)) {
      k = UNALLOCATED;
    } else {
      k = DATA;
    }
    if (k == kind && k != OTHER && (k != DATA || offset == next)) {
      n++;
      next += clusterSize;
      continue;
    }
    if (kind != ALL) {
      emit(out + <usize>runs * 16, kind, n, host);
      runs++;
    }
    kind = k;
    n = 1;
    host = offset;
    next = offset + clusterSize;
  }
  if (kind != ALL) {
    emit(out + <usize>runs * 16, kind, n, host);
    runs++;
  }
  return runs;
}

// @ts-ignore: decorator
@inline function emit(at: usize, kind: u32, n: u32, host: u64): void {
  store<u32>(at, kind);
  store<u32>(at, n, 4);
  store<f64>(at, <f64>host, 8);
}
