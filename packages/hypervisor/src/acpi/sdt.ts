// The parts every ACPI table shares (ACPI 6.5 §5.2.6): the 36-byte System Description Table header
// and the checksum that makes all bytes of a table sum to zero (mod 256).

export const SDT_HEADER_SIZE = 36;
export const OEM_ID = 'ISOLA ';
export const OEM_TABLE_ID = 'ISOLAVM ';
export const CREATOR_ID = 'ISLA';
export const CREATOR_REVISION = 1;

/** The byte that makes `bytes` sum to zero, given that its own slot holds 0. */
export function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return (0x100 - sum) & 0xff;
}

export function ascii(out: Uint8Array, at: number, text: string): void {
  out.set(Buffer.from(text, 'ascii'), at);
}

/** A table: header (signature, length, revision, checksum, OEM fields) followed by `body`. */
export function sdt(signature: string, revision: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(SDT_HEADER_SIZE + body.length);
  const view = new DataView(out.buffer);
  ascii(out, 0, signature);
  view.setUint32(4, out.length, true);
  out[8] = revision;
  ascii(out, 10, OEM_ID);
  ascii(out, 16, OEM_TABLE_ID);
  view.setUint32(24, 1, true); // OEM revision
  ascii(out, 28, CREATOR_ID);
  view.setUint32(32, CREATOR_REVISION, true);
  out.set(body, SDT_HEADER_SIZE);
  out[9] = checksum(out);
  return out;
}

/** XSDT (§5.2.8): the 64-bit addresses of every other table but the FACS and DSDT. */
export function encodeXsdt(tables: readonly number[]): Uint8Array {
  const body = new Uint8Array(8 * tables.length);
  const view = new DataView(body.buffer);
  tables.forEach((address, i) => view.setBigUint64(8 * i, BigInt(address), true));
  return sdt('XSDT', 1, body);
}

export const RSDP_SIZE = 36;

/** RSDP revision 2 (§5.2.5.3): "RSD PTR ", a checksum over the first 20 bytes, one over all 36. */
export function encodeRsdp(xsdtAddress: number): Uint8Array {
  const out = new Uint8Array(RSDP_SIZE);
  const view = new DataView(out.buffer);
  ascii(out, 0, 'RSD PTR ');
  ascii(out, 9, OEM_ID);
  out[15] = 2; // revision: ACPI 2.0+, has the XSDT
  view.setUint32(16, 0, true); // no RSDT: 64-bit guests read the XSDT
  view.setUint32(20, RSDP_SIZE, true);
  view.setBigUint64(24, BigInt(xsdtAddress), true);
  out[8] = checksum(out.subarray(0, 20));
  out[32] = checksum(out);
  return out;
}
