import { describe, expect, it } from 'vitest';
import { readU32, readU64, readU64Number, splitU64, writeU32, writeU64 } from './endian.js';
import { encodeExtensions, parseExtensions, type HeaderExtension } from './extensions.js';
import { checkReadable } from './features.js';
import { encodeHeader, parseHeader } from './header.js';
import { planNewImage } from './layout.js';

describe('endian helpers', () => {
  it('reads and writes big-endian 32- and 64-bit fields, refusing inexact 64-bit numbers', () => {
    const buf = new Uint8Array(16);
    writeU32(buf, 0, 0xdeadbeef);
    expect([...buf.subarray(0, 4)]).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(readU32(buf, 0)).toBe(0xdeadbeef);
    writeU64(buf, 8, 0x0123456789abcdefn);
    expect(readU64(buf, 8)).toBe(0x0123456789abcdefn);
    expect(readU64Number(buf, 8)).toBeUndefined();
    writeU64(buf, 8, 2 ** 53 - 1);
    expect(readU64Number(buf, 8)).toBe(2 ** 53 - 1);
    expect(splitU64(0x1_0000_0200)).toEqual({ hi: 1, lo: 0x200 });
  });
});

describe('header', () => {
  it('round-trips a planned v3 header, including fields from a newer qemu', () => {
    const plan = planNewImage({ size: 10 << 20, clusterBits: 16, version: 3, refcountOrder: 4, backingFile: 'base.qcow2', backingFormat: 'qcow2' }, 'x');
    const first = plan.regions[0].bytes;
    const header = parseHeader(first, 'x');
    expect(header).toMatchObject({ version: 3, clusterBits: 16, size: 10 << 20, l1Size: 1, refcountOrder: 4, headerLength: 112 });
    expect(Buffer.from(first.subarray(header.backingFileOffset, header.backingFileOffset + header.backingFileSize)).toString()).toBe('base.qcow2');
    const newer = { ...header, headerLength: 120, extraFields: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) };
    const again = parseHeader(Buffer.concat([encodeHeader(newer), new Uint8Array(64)]), 'x');
    expect(again.extraFields).toEqual(newer.extraFields);
    expect(encodeHeader(again)).toEqual(encodeHeader(newer));
  });

  it('encodes v2 headers in 72 bytes with the implied refcount order', () => {
    const plan = planNewImage({ size: 1 << 20, clusterBits: 12, version: 2, refcountOrder: 4 }, 'x');
    const header = parseHeader(plan.regions[0].bytes, 'x');
    expect(encodeHeader(header).length).toBe(72);
    expect(header).toMatchObject({ version: 2, headerLength: 72, refcountOrder: 4, incompatibleFeatures: 0n });
  });

  it('refuses to plan what qemu could not open', () => {
    expect(() => planNewImage({ size: 1 << 20, clusterBits: 8, version: 3, refcountOrder: 4 }, 'x')).toThrow(/cluster size/);
    expect(() => planNewImage({ size: 1 << 20, clusterBits: 16, version: 2, refcountOrder: 6 }, 'x')).toThrow(/16-bit/);
    expect(() => planNewImage({ size: 2 ** 52, clusterBits: 9, version: 3, refcountOrder: 4 }, 'x')).toThrow(/32 MiB/);
  });
});

describe('header extensions', () => {
  it('round-trips backing format, feature names and unknown extensions byte for byte', () => {
    const extensions: HeaderExtension[] = [
      { kind: 'backingFormat', format: 'raw' },
      { kind: 'featureNames', features: [{ kind: 'autoclear', bit: 5, name: 'future thing' }] },
      { kind: 'opaque', type: 0x12345678, data: new Uint8Array([9, 8, 7]) },
    ];
    const bytes = encodeExtensions(extensions);
    expect(bytes.length % 8).toBe(0);
    const parsed = parseExtensions(bytes, 0, bytes.length, 'x');
    expect(parsed).toEqual(extensions);
    expect(encodeExtensions(parsed)).toEqual(bytes);
  });

  it('refuses duplicates', () => {
    const one = encodeExtensions([{ kind: 'backingFormat', format: 'raw' }]).subarray(0, 16);
    const twice = Buffer.concat([one, one, new Uint8Array(8)]);
    expect(() => parseExtensions(twice, 0, twice.length, 'img')).toThrow(/appears twice/);
  });

  it('names unknown incompatible features from the table', () => {
    const plan = planNewImage({ size: 1 << 20, clusterBits: 16, version: 3, refcountOrder: 4 }, 'x');
    const header = { ...parseHeader(plan.regions[0].bytes, 'x'), incompatibleFeatures: 1n << 40n };
    expect(() => checkReadable(header, [{ kind: 'incompatible', bit: 40, name: 'warp drive' }], 'img')).toThrow(/img: .*warp drive/);
  });
});
