// Header extensions (qcow2.txt, "Header extensions"): the backing format name and the feature name table
// are interpreted; every other extension (bitmaps, encryption, external data file, ones newer than this
// code) is kept as opaque bytes, so that rewriting the header never drops data we do not understand.
import { hex, imageError } from '../errors.js';
import { readU32, readU8, writeU32 } from './endian.js';

export const EXT_END = 0x00000000;
export const EXT_BACKING_FORMAT = 0xe2792aca;
export const EXT_FEATURE_NAMES = 0x6803f857;
export const EXT_BITMAPS = 0x23852875;
export const EXT_CRYPTO_HEADER = 0x0537be77;
export const EXT_DATA_FILE = 0x44415441;

export type FeatureKind = 'incompatible' | 'compatible' | 'autoclear';
const FEATURE_KINDS: readonly FeatureKind[] = ['incompatible', 'compatible', 'autoclear'];
const FEATURE_NAME_ENTRY = 48;
const FEATURE_NAME_LENGTH = 46;

export interface FeatureName {
  kind: FeatureKind;
  bit: number;
  name: string;
}

export type HeaderExtension =
  | { kind: 'backingFormat'; format: string }
  | { kind: 'featureNames'; features: FeatureName[] }
  | { kind: 'opaque'; type: number; data: Uint8Array };

/**
 * Parses the extensions in buf[start, end): end is the backing file name's offset when there is one (the
 * name follows the extension area), else the end of the first cluster.
 */
export function parseExtensions(buf: Uint8Array, start: number, end: number, path: string): HeaderExtension[] {
  const extensions: HeaderExtension[] = [];
  const seen = new Set<number>();
  let offset = start;
  while (offset + 8 <= end) {
    const type = readU32(buf, offset);
    const length = readU32(buf, offset + 4);
    if (type === EXT_END) break;
    const dataStart = offset + 8;
    if (dataStart + length > end) {
      throw imageError('EQCOW2_BAD_EXTENSION', path, `header extension ${hex(type)} (${length} bytes) runs past ${hex(end)}`, {
        type,
        offset,
      });
    }
    if (seen.has(type)) throw imageError('EQCOW2_BAD_EXTENSION', path, `header extension ${hex(type)} appears twice`, { type });
    seen.add(type);
    const data = buf.subarray(dataStart, dataStart + length);
    extensions.push(decodeExtension(type, data, path));
    offset = dataStart + align8(length);
  }
  return extensions;
}

function decodeExtension(type: number, data: Uint8Array, path: string): HeaderExtension {
  switch (type) {
    case EXT_BACKING_FORMAT:
      return { kind: 'backingFormat', format: latin1(data) };
    case EXT_FEATURE_NAMES: {
      if (data.length % FEATURE_NAME_ENTRY !== 0) {
        throw imageError('EQCOW2_BAD_EXTENSION', path, `feature name table is ${data.length} bytes, not a multiple of 48`);
      }
      const features: FeatureName[] = [];
      for (let at = 0; at < data.length; at += FEATURE_NAME_ENTRY) {
        const kind = FEATURE_KINDS[readU8(data, at)];
        const bit = readU8(data, at + 1);
        // Unknown feature types are skipped rather than refused: the table only helps messages.
        if (kind === undefined || bit > 63) continue;
        const raw = data.subarray(at + 2, at + 2 + FEATURE_NAME_LENGTH);
        const nul = raw.indexOf(0);
        features.push({ kind, bit, name: latin1(nul < 0 ? raw : raw.subarray(0, nul)) });
      }
      return { kind: 'featureNames', features };
    }
    default:
      return { kind: 'opaque', type, data: data.slice() };
  }
}

/** Encodes the extensions followed by the end marker, each padded to 8 bytes. */
export function encodeExtensions(extensions: readonly HeaderExtension[]): Uint8Array {
  const parts = extensions.map((ext) => {
    const [type, data] = extensionBody(ext);
    const part = new Uint8Array(8 + align8(data.length));
    writeU32(part, 0, type);
    writeU32(part, 4, data.length);
    part.set(data, 8);
    return part;
  });
  parts.push(new Uint8Array(8));
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function extensionBody(ext: HeaderExtension): [number, Uint8Array] {
  switch (ext.kind) {
    case 'backingFormat':
      return [EXT_BACKING_FORMAT, Buffer.from(ext.format, 'latin1')];
    case 'featureNames': {
      const data = new Uint8Array(ext.features.length * FEATURE_NAME_ENTRY);
      ext.features.forEach((f, i) => {
        data[i * FEATURE_NAME_ENTRY] = FEATURE_KINDS.indexOf(f.kind);
        data[i * FEATURE_NAME_ENTRY + 1] = f.bit;
        data.set(Buffer.from(f.name, 'latin1').subarray(0, FEATURE_NAME_LENGTH), i * FEATURE_NAME_ENTRY + 2);
      });
      return [EXT_FEATURE_NAMES, data];
    }
    case 'opaque':
      return [ext.type, ext.data];
  }
}

export function findExtension<K extends HeaderExtension['kind']>(
  extensions: readonly HeaderExtension[],
  kind: K,
): Extract<HeaderExtension, { kind: K }> | undefined {
  return extensions.find((e): e is Extract<HeaderExtension, { kind: K }> => e.kind === kind);
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}
