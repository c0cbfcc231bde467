// The length of one zstd frame (RFC 8878, section 3.1.1) at the start of a buffer, read from its
// headers without decompressing. qemu stores a zstd-compressed cluster as one frame padded to a
// 512-byte sector, and its decoder stops at the frame's end; a one-shot decoder given the padding would
// take it for a second, broken frame, so the reader passes exactly the frame.
import { readU8 } from './endian.js';

const MAGIC = 0xfd2fb528;

/** Bytes the frame at the start of buf takes, or undefined when buf does not hold a whole, valid frame. */
export function zstdFrameLength(buf: Uint8Array): number | undefined {
  if (buf.length < 6) return undefined;
  const magic = (buf[0] | (buf[1] << 8) | (buf[2] << 16) | (buf[3] << 24)) >>> 0;
  if (magic !== MAGIC) return undefined;
  const descriptor = readU8(buf, 4);
  if ((descriptor & 0x08) !== 0) return undefined; // reserved bit
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor & 0x20) !== 0;
  const checksum = (descriptor & 0x04) !== 0;
  const dictionaryBytes = [0, 1, 2, 4][descriptor & 0x03];
  const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag];
  let at = 5 + (singleSegment ? 0 : 1) + dictionaryBytes + contentSizeBytes;
  for (;;) {
    if (at + 3 > buf.length) return undefined;
    const header = buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16);
    const last = (header & 1) !== 0;
    const type = (header >> 1) & 3;
    const size = header >>> 3;
    if (type === 3) return undefined; // reserved block type
    at += 3 + (type === 1 ? 1 : size);
    if (last) break;
  }
  at += checksum ? 4 : 0;
  return at <= buf.length ? at : undefined;
}
