// A small typed encoder for the subset of AML (ACPI 6.5 §20) isola's DSDT needs: scopes, devices,
// named integers, strings and buffers, and resource templates with Memory32Fixed and extended
// interrupt descriptors. Every function returns the encoded bytes of one term, so a table is built by
// nesting calls, as ASL nests blocks. Pure: no I/O, and a bad name is an error, never bad bytes.
import { hypervisorError } from '../errors.js';

export const AML = {
  ZERO: 0x00,
  ONE: 0x01,
  NAME: 0x08,
  BYTE_PREFIX: 0x0a,
  WORD_PREFIX: 0x0b,
  DWORD_PREFIX: 0x0c,
  STRING_PREFIX: 0x0d,
  QWORD_PREFIX: 0x0e,
  SCOPE: 0x10,
  BUFFER: 0x11,
  DUAL_NAME_PREFIX: 0x2e,
  MULTI_NAME_PREFIX: 0x2f,
  EXT_PREFIX: 0x5b,
  DEVICE: 0x82,
  ROOT_CHAR: 0x5c,
  PARENT_CHAR: 0x5e,
} as const;

/** Resource descriptors (ACPI 6.5 §6.4): large items carry a 16-bit length after the tag. */
export const RESOURCE = {
  MEMORY32_FIXED: 0x86,
  EXTENDED_INTERRUPT: 0x89,
  END_TAG: 0x79,
} as const;

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * PkgLength (§20.2.4) for `contentLength` bytes that follow it: the encoded length counts its own
 * bytes too. One byte holds up to 63; otherwise bits 7-6 of the lead byte say how many bytes follow,
 * its low nibble holds bits 0-3 and each following byte the next eight bits.
 */
export function pkgLength(contentLength: number): Uint8Array {
  if (contentLength + 1 < 0x40) return Uint8Array.of(contentLength + 1);
  for (let extra = 1; extra <= 3; extra++) {
    const total = contentLength + 1 + extra;
    if (total < 2 ** (4 + 8 * extra)) {
      const out = new Uint8Array(1 + extra);
      out[0] = (extra << 6) | (total & 0xf);
      for (let i = 1; i <= extra; i++) out[i] = (total >>> (4 + 8 * (i - 1))) & 0xff;
      return out;
    }
  }
  throw hypervisorError('EACPI_AML', `AML package of ${contentLength} bytes: larger than PkgLength can encode (2^28)`, { contentLength });
}

function nameSeg(segment: string, path: string): Uint8Array {
  if (!/^[A-Z_][A-Z0-9_]{0,3}$/.test(segment)) {
    throw hypervisorError('EACPI_AML', `AML name "${path}": segment "${segment}" must be 1-4 characters of A-Z, 0-9 and _, not starting with a digit`, { path });
  }
  return new Uint8Array(Buffer.from(segment.padEnd(4, '_'), 'ascii'));
}

/** A NameString (§20.2.2): `\_SB_.VR00`, `^FOO`, `_HID`; segments shorter than 4 are padded with _. */
export function nameString(path: string): Uint8Array {
  let rest = path;
  const prefix: number[] = [];
  if (rest.startsWith('\\')) {
    prefix.push(AML.ROOT_CHAR);
    rest = rest.slice(1);
  } else {
    while (rest.startsWith('^')) {
      prefix.push(AML.PARENT_CHAR);
      rest = rest.slice(1);
    }
  }
  const segments = rest === '' ? [] : rest.split('.').map((s) => nameSeg(s, path));
  if (segments.length > 255) throw hypervisorError('EACPI_AML', `AML name "${path}": more than 255 segments`, { path });
  const head =
    segments.length === 0 ? [AML.ZERO] : segments.length === 1 ? [] : segments.length === 2 ? [AML.DUAL_NAME_PREFIX] : [AML.MULTI_NAME_PREFIX, segments.length];
  return concat([Uint8Array.from(prefix), Uint8Array.from(head), ...segments]);
}

/** The shortest integer encoding: ZeroOp, OneOp, or a Byte/Word/DWord/QWord prefix. */
export function integer(value: number | bigint): Uint8Array {
  const v = BigInt(value);
  if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw hypervisorError('EACPI_AML', `AML integer ${v}: outside 0 .. 2^64-1`, { value: v.toString() });
  if (v === 0n) return Uint8Array.of(AML.ZERO);
  if (v === 1n) return Uint8Array.of(AML.ONE);
  const [prefix, size] = v <= 0xffn ? [AML.BYTE_PREFIX, 1] : v <= 0xffffn ? [AML.WORD_PREFIX, 2] : v <= 0xffff_ffffn ? [AML.DWORD_PREFIX, 4] : [AML.QWORD_PREFIX, 8];
  const out = new Uint8Array(1 + size);
  out[0] = prefix;
  for (let i = 0; i < size; i++) out[1 + i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** A String (§20.2.3): ASCII 0x01-0x7f, NUL-terminated. */
export function string(text: string): Uint8Array {
  if (!/^[\x01-\x7f]*$/.test(text)) throw hypervisorError('EACPI_AML', `AML string ${JSON.stringify(text)}: only ASCII 0x01-0x7f may appear`, {});
  return concat([Uint8Array.of(AML.STRING_PREFIX), new Uint8Array(Buffer.from(text, 'ascii')), Uint8Array.of(0)]);
}

/** DefBuffer: BufferOp PkgLength BufferSize ByteList. */
export function buffer(bytes: Uint8Array): Uint8Array {
  const body = concat([integer(bytes.length), bytes]);
  return concat([Uint8Array.of(AML.BUFFER), pkgLength(body.length), body]);
}

/** Name(name, value). */
export function name(path: string, value: Uint8Array): Uint8Array {
  return concat([Uint8Array.of(AML.NAME), nameString(path), value]);
}

/** Scope(path) { terms }. */
export function scope(path: string, ...terms: Uint8Array[]): Uint8Array {
  const body = concat([nameString(path), ...terms]);
  return concat([Uint8Array.of(AML.SCOPE), pkgLength(body.length), body]);
}

/** Device(name) { terms }. */
export function device(path: string, ...terms: Uint8Array[]): Uint8Array {
  const body = concat([nameString(path), ...terms]);
  return concat([Uint8Array.of(AML.EXT_PREFIX, AML.DEVICE), pkgLength(body.length), body]);
}

/** Memory32Fixed(ReadWrite|ReadOnly, base, length): large item 0x86, 9 bytes of data. */
export function memory32Fixed(base: number, length: number, writable = true): Uint8Array {
  for (const [field, v] of [['base', base], ['length', length]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw hypervisorError('EACPI_AML', `Memory32Fixed ${field} ${v}: not a 32-bit value`, { [field]: v });
  }
  const out = new Uint8Array(12);
  const view = new DataView(out.buffer);
  out[0] = RESOURCE.MEMORY32_FIXED;
  view.setUint16(1, 9, true);
  out[3] = writable ? 1 : 0;
  view.setUint32(4, base, true);
  view.setUint32(8, length, true);
  return out;
}

export interface InterruptOptions {
  /** Edge-triggered (true) or level (false). */
  edge: boolean;
  activeLow?: boolean;
  shared?: boolean;
}

/** Interrupt(ResourceConsumer, Edge|Level, ActiveHigh|ActiveLow, Exclusive|Shared) { gsi... }: large item 0x89. */
export function extendedInterrupt(gsis: readonly number[], options: InterruptOptions): Uint8Array {
  if (gsis.length === 0 || gsis.length > 255) throw hypervisorError('EACPI_AML', `Interrupt descriptor with ${gsis.length} interrupts: 1 to 255`, {});
  const out = new Uint8Array(5 + 4 * gsis.length);
  const view = new DataView(out.buffer);
  out[0] = RESOURCE.EXTENDED_INTERRUPT;
  view.setUint16(1, 2 + 4 * gsis.length, true);
  out[3] = 0x1 | (options.edge ? 0x2 : 0) | (options.activeLow ? 0x4 : 0) | (options.shared ? 0x8 : 0);
  out[4] = gsis.length;
  gsis.forEach((gsi, i) => {
    if (!Number.isInteger(gsi) || gsi < 0 || gsi > 0xffff_ffff) throw hypervisorError('EACPI_AML', `Interrupt ${gsi}: not a 32-bit GSI`, { gsi });
    view.setUint32(5 + 4 * i, gsi, true);
  });
  return out;
}

/** ResourceTemplate() { descriptors }: a Buffer ending in an End Tag whose checksum byte 0 means "none". */
export function resourceTemplate(...descriptors: Uint8Array[]): Uint8Array {
  return buffer(concat([...descriptors, Uint8Array.of(RESOURCE.END_TAG, 0)]));
}

export { concat as amlConcat };
