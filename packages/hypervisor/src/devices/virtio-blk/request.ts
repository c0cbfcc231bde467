// virtio-blk requests (virtio 1.2, 5.2.6), parsed from a descriptor chain without touching the disk: a
// 16-byte header (type, reserved, sector) in the readable buffers, the data, and a status byte at the
// very end of the writable ones. A chain without a header or a status byte cannot be answered and is a
// device error; anything else the guest gets wrong (an unknown type, a range past the disk, a write
// to a read-only disk) is answered with a status, as the spec asks.
import { carve, gather, totalLength, type DescriptorChain, type Segment } from '../virtio/chain.js';
import { le, type GuestRam } from '../virtio/ram.js';

export const SECTOR_SIZE = 512;
export const HEADER_SIZE = 16;
export const ID_BYTES = 20;
/** One discard or write-zeroes range: le64 sector, le32 num_sectors, le32 flags. */
export const RANGE_SIZE = 16;
export const RANGE_F_UNMAP = 1;

export const BlkType = { IN: 0, OUT: 1, FLUSH: 4, GET_ID: 8, DISCARD: 11, WRITE_ZEROES: 13 } as const;
export const BlkStatus = { OK: 0, IOERR: 1, UNSUPP: 2 } as const;

export interface DiskShape {
  /** Bytes. */
  capacity: number;
  readOnly: boolean;
  /** Which optional commands the device offered (and so accepts). */
  discard: boolean;
  writeZeroes: boolean;
  /** Most ranges in one discard or write-zeroes request (max_discard_seg, max_write_zeroes_seg). */
  maxRanges: number;
}

export interface ByteRange {
  offset: number;
  length: number;
  unmap: boolean;
}

export type BlkRequest =
  | { kind: 'in'; offset: number; data: Segment[] }
  | { kind: 'out'; offset: number; data: Segment[] }
  | { kind: 'flush' }
  | { kind: 'get-id'; data: Segment[] }
  | { kind: 'discard' | 'write-zeroes'; ranges: ByteRange[] }
  /** Answered with a status and nothing else. */
  | { kind: 'reject'; status: number; reason: string };

export type ParsedRequest = { ok: true; request: BlkRequest; status: Segment; type: number } | { ok: false; reason: string };

const reject = (status: number, reason: string): BlkRequest => ({ kind: 'reject', status, reason });

function inDisk(shape: DiskShape, offset: number, length: number): boolean {
  return Number.isSafeInteger(offset) && offset + length <= shape.capacity;
}

export function parseRequest(ram: GuestRam, chain: DescriptorChain, shape: DiskShape): ParsedRequest {
  const header = gather(ram, chain.readable, HEADER_SIZE);
  if (header.length < HEADER_SIZE) return { ok: false, reason: `request header is ${header.length} bytes, not ${HEADER_SIZE}` };
  const writableBytes = totalLength(chain.writable);
  if (writableBytes === 0) return { ok: false, reason: 'request has no writable status byte' };
  const status = carve(chain.writable, writableBytes - 1, 1)[0]!;
  const type = le.u32(header, 0);
  const sector = le.u64(header, 8);
  const request = parseBody(ram, chain, shape, type, sector, writableBytes - 1);
  return { ok: true, request, status, type };
}

function parseBody(ram: GuestRam, chain: DescriptorChain, shape: DiskShape, type: number, sector: number | undefined, dataIn: number): BlkRequest {
  const offset = sector === undefined ? Number.NaN : sector * SECTOR_SIZE;
  switch (type) {
    case BlkType.IN: {
      if (dataIn % SECTOR_SIZE) return reject(BlkStatus.IOERR, `read of ${dataIn} bytes is not whole sectors`);
      if (!inDisk(shape, offset, dataIn)) return reject(BlkStatus.IOERR, `read of ${dataIn} bytes at sector ${sector ?? '> 2^53'} is past the end of the disk`);
      return { kind: 'in', offset, data: carve(chain.writable, 0, dataIn) };
    }
    case BlkType.OUT: {
      const dataOut = totalLength(chain.readable) - HEADER_SIZE;
      if (shape.readOnly) return reject(BlkStatus.IOERR, 'write to a read-only disk');
      if (dataOut % SECTOR_SIZE) return reject(BlkStatus.IOERR, `write of ${dataOut} bytes is not whole sectors`);
      if (!inDisk(shape, offset, dataOut)) return reject(BlkStatus.IOERR, `write of ${dataOut} bytes at sector ${sector ?? '> 2^53'} is past the end of the disk`);
      return { kind: 'out', offset, data: carve(chain.readable, HEADER_SIZE, dataOut) };
    }
    case BlkType.FLUSH:
      return { kind: 'flush' };
    case BlkType.GET_ID:
      return { kind: 'get-id', data: carve(chain.writable, 0, Math.min(dataIn, ID_BYTES)) };
    case BlkType.DISCARD:
    case BlkType.WRITE_ZEROES: {
      const kind = type === BlkType.DISCARD ? 'discard' : 'write-zeroes';
      if (!(kind === 'discard' ? shape.discard : shape.writeZeroes)) return reject(BlkStatus.UNSUPP, `${kind} was not offered`);
      if (shape.readOnly) return reject(BlkStatus.IOERR, `${kind} on a read-only disk`);
      return parseRanges(ram, chain, shape, kind);
    }
    default:
      return reject(BlkStatus.UNSUPP, `request type ${type} is not supported`);
  }
}

function parseRanges(ram: GuestRam, chain: DescriptorChain, shape: DiskShape, kind: 'discard' | 'write-zeroes'): BlkRequest {
  const bytes = totalLength(chain.readable) - HEADER_SIZE;
  if (bytes === 0 || bytes % RANGE_SIZE) return reject(BlkStatus.IOERR, `${kind} payload of ${bytes} bytes is not whole ranges`);
  if (bytes / RANGE_SIZE > shape.maxRanges) return reject(BlkStatus.IOERR, `${kind} of ${bytes / RANGE_SIZE} ranges: at most ${shape.maxRanges}`);
  const payload = gather(ram, chain.readable, bytes, HEADER_SIZE);
  const ranges: ByteRange[] = [];
  for (let at = 0; at < bytes; at += RANGE_SIZE) {
    const sector = le.u64(payload, at);
    const length = le.u32(payload, at + 8) * SECTOR_SIZE;
    const flags = le.u32(payload, at + 12);
    // Discard has no flags (5.2.6.2: UNSUPP when unmap is set); write-zeroes knows only unmap.
    if (flags & ~(kind === 'discard' ? 0 : RANGE_F_UNMAP)) return reject(BlkStatus.UNSUPP, `${kind} range flags 0x${flags.toString(16)} are not supported`);
    const offset = sector === undefined ? Number.NaN : sector * SECTOR_SIZE;
    if (!inDisk(shape, offset, length)) return reject(BlkStatus.IOERR, `${kind} of ${length} bytes at sector ${sector ?? '> 2^53'} is past the end of the disk`);
    ranges.push({ offset, length, unmap: (flags & RANGE_F_UNMAP) !== 0 });
  }
  return { kind, ranges };
}
