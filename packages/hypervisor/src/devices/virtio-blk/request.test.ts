import { describe, expect, it } from 'vitest';
import { le } from '../virtio/ram.js';
import { MockDriver, type GuestBuffer } from '../virtio/testing.js';
import { parseChain } from '../virtio/chain.js';
import { BlkStatus, BlkType, parseRequest, type DiskShape } from './request.js';

const shape: DiskShape = { capacity: 1 << 20, readOnly: false, discard: true, writeZeroes: true, maxRanges: 4 };

function header(d: MockDriver, type: number, sector: number | bigint): number {
  const h = new Uint8Array(16);
  le.setU32(h, 0, type);
  le.setU64(h, 8, sector);
  return d.alloc(16, h);
}

function parse(d: MockDriver, buffers: GuestBuffer[], s = shape) {
  const head = d.chain(buffers);
  const chain = parseChain(d.ram, d.layout.desc, d.layout.size, head, { indirect: false });
  if (!chain.ok) throw new Error(chain.reason);
  return parseRequest(d.ram, chain.chain, s);
}

function ranges(d: MockDriver, list: [number, number, number][]): GuestBuffer {
  const bytes = new Uint8Array(16 * list.length);
  list.forEach(([sector, count, flags], i) => {
    le.setU64(bytes, i * 16, sector);
    le.setU32(bytes, i * 16 + 8, count);
    le.setU32(bytes, i * 16 + 12, flags);
  });
  return { address: d.alloc(bytes.length, bytes), length: bytes.length };
}

describe('parseRequest', () => {
  it('reads: data segments are the writable buffers before the status byte', () => {
    const d = new MockDriver();
    const data = d.alloc(1024);
    const status = d.alloc(1);
    expect(parse(d, [{ address: header(d, BlkType.IN, 3), length: 16 }, { address: data, length: 1024, write: true }, { address: status, length: 1, write: true }])).toEqual({
      ok: true,
      type: BlkType.IN,
      status: { address: status, length: 1 },
      request: { kind: 'in', offset: 3 * 512, data: [{ address: data, length: 1024 }] },
    });
  });

  it('writes: the header and data may share a buffer, and the status may share the last one', () => {
    const d = new MockDriver();
    const buf = d.alloc(16 + 512);
    d.ram.view(buf, 16)!.set(d.bytes(header(d, BlkType.OUT, 1), 16));
    const status = d.alloc(1);
    expect(parse(d, [{ address: buf, length: 528 }, { address: status, length: 1, write: true }])).toMatchObject({
      ok: true,
      request: { kind: 'out', offset: 512, data: [{ address: buf + 16, length: 512 }] },
    });
  });

  it('flush, get-id, discard and write-zeroes', () => {
    const d = new MockDriver();
    const st = () => ({ address: d.alloc(1), length: 1, write: true });
    expect(parse(d, [{ address: header(d, BlkType.FLUSH, 0), length: 16 }, st()])).toMatchObject({ request: { kind: 'flush' } });
    const id = d.alloc(20);
    expect(parse(d, [{ address: header(d, BlkType.GET_ID, 0), length: 16 }, { address: id, length: 20, write: true }, st()])).toMatchObject({
      request: { kind: 'get-id', data: [{ address: id, length: 20 }] },
    });
    expect(parse(d, [{ address: header(d, BlkType.DISCARD, 0), length: 16 }, ranges(d, [[8, 16, 0]]), st()])).toMatchObject({
      request: { kind: 'discard', ranges: [{ offset: 4096, length: 8192, unmap: false }] },
    });
    expect(parse(d, [{ address: header(d, BlkType.WRITE_ZEROES, 0), length: 16 }, ranges(d, [[0, 1, 1], [4, 2, 0]]), st()])).toMatchObject({
      request: { kind: 'write-zeroes', ranges: [{ offset: 0, length: 512, unmap: true }, { offset: 2048, length: 1024, unmap: false }] },
    });
  });

  const rejected: [string, (d: MockDriver) => GuestBuffer[], number, RegExp, DiskShape?][] = [
    ['an unknown type', (d) => [{ address: header(d, 99, 0), length: 16 }], BlkStatus.UNSUPP, /type 99/],
    ['a read past the end', (d) => [{ address: header(d, BlkType.IN, 2047), length: 16 }, { address: d.alloc(1024), length: 1024, write: true }], BlkStatus.IOERR, /past the end/],
    ['a read at a sector past 2^53', (d) => [{ address: header(d, BlkType.IN, 0xffff_ffff_ffff_ffffn), length: 16 }, { address: d.alloc(512), length: 512, write: true }], BlkStatus.IOERR, /past the end/],
    ['a read of part of a sector', (d) => [{ address: header(d, BlkType.IN, 0), length: 16 }, { address: d.alloc(100), length: 100, write: true }], BlkStatus.IOERR, /not whole sectors/],
    ['a write to a read-only disk', (d) => [{ address: header(d, BlkType.OUT, 0), length: 16 }, { address: d.alloc(512), length: 512 }], BlkStatus.IOERR, /read-only/, { ...shape, readOnly: true }],
    ['discard with the unmap flag', (d) => [{ address: header(d, BlkType.DISCARD, 0), length: 16 }, ranges(d, [[0, 1, 1]])], BlkStatus.UNSUPP, /flags 0x1/],
    ['write-zeroes with unknown flags', (d) => [{ address: header(d, BlkType.WRITE_ZEROES, 0), length: 16 }, ranges(d, [[0, 1, 2]])], BlkStatus.UNSUPP, /flags 0x2/],
    ['more ranges than advertised', (d) => [{ address: header(d, BlkType.DISCARD, 0), length: 16 }, ranges(d, [[0, 1, 0], [1, 1, 0], [2, 1, 0], [3, 1, 0], [4, 1, 0]])], BlkStatus.IOERR, /at most 4/],
    ['a discard past the end', (d) => [{ address: header(d, BlkType.DISCARD, 0), length: 16 }, ranges(d, [[2040, 16, 0]])], BlkStatus.IOERR, /past the end/],
    ['discard when it was not offered', (d) => [{ address: header(d, BlkType.DISCARD, 0), length: 16 }, ranges(d, [[0, 1, 0]])], BlkStatus.UNSUPP, /not offered/, { ...shape, discard: false }],
  ];
  for (const [name, build, status, reason, s] of rejected) {
    it(`answers ${name} with status ${status}`, () => {
      const d = new MockDriver();
      const buffers = build(d);
      expect(parse(d, [...buffers, { address: d.alloc(1), length: 1, write: true }], s)).toMatchObject({ ok: true, request: { kind: 'reject', status, reason: expect.stringMatching(reason) } });
    });
  }

  it('cannot answer a chain without a header or a status byte: a device error', () => {
    const d = new MockDriver();
    expect(parse(d, [{ address: d.alloc(8), length: 8 }, { address: d.alloc(1), length: 1, write: true }])).toEqual({ ok: false, reason: 'request header is 8 bytes, not 16' });
    expect(parse(d, [{ address: header(d, BlkType.FLUSH, 0), length: 16 }])).toEqual({ ok: false, reason: 'request has no writable status byte' });
  });
});
