// Big-endian field access for qcow2 structures (every qcow2 number is big-endian). Formats read fields
// only through these helpers, so byte order is decided in one place. 64-bit fields come back either as a
// bigint or as a number that is checked to be exact (offsets and sizes beyond 2^53 are refused by callers).

export function readU8(buf: Uint8Array, offset: number): number {
  return buf[offset];
}

export function readU16(buf: Uint8Array, offset: number): number {
  return (buf[offset] << 8) | buf[offset + 1];
}

export function readU32(buf: Uint8Array, offset: number): number {
  return buf[offset] * 0x1000000 + ((buf[offset + 1] << 16) | (buf[offset + 2] << 8) | buf[offset + 3]);
}

export function readU64(buf: Uint8Array, offset: number): bigint {
  return (BigInt(readU32(buf, offset)) << 32n) | BigInt(readU32(buf, offset + 4));
}

/** A 64-bit field as a number, or undefined when it does not fit exactly (above 2^53 - 1). */
export function readU64Number(buf: Uint8Array, offset: number): number | undefined {
  const hi = readU32(buf, offset);
  if (hi >= 0x200000) return undefined;
  return hi * 0x100000000 + readU32(buf, offset + 4);
}

export function writeU8(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value & 0xff;
}

export function writeU16(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = (value >>> 8) & 0xff;
  buf[offset + 1] = value & 0xff;
}

export function writeU32(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = (value >>> 24) & 0xff;
  buf[offset + 1] = (value >>> 16) & 0xff;
  buf[offset + 2] = (value >>> 8) & 0xff;
  buf[offset + 3] = value & 0xff;
}

export function writeU64(buf: Uint8Array, offset: number, value: bigint | number): void {
  const big = BigInt.asUintN(64, BigInt(value));
  writeU32(buf, offset, Number(big >> 32n));
  writeU32(buf, offset + 4, Number(big & 0xffffffffn));
}

/** Splits a non-negative safe integer into the two 32-bit halves of a 64-bit field. */
export function splitU64(value: number): { hi: number; lo: number } {
  const hi = Math.floor(value / 0x100000000);
  return { hi, lo: value - hi * 0x100000000 };
}
