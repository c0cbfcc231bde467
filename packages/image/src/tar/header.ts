// One 512-byte tar header block, parsed without I/O. Covers the formats layer producers emit: POSIX
// ustar (+ PAX records, see pax.ts), GNU (long names, base-256 numbers) and pre-POSIX v7 headers.
// Field offsets are from POSIX.1-2017 pax(1) "ustar Interchange Format"; GNU's differences are noted
// where they matter.
import { LayerError } from '../errors.js';

export const BLOCK_SIZE = 512;

export type TarEntryType =
  | 'file'
  | 'hardlink'
  | 'symlink'
  | 'char-device'
  | 'block-device'
  | 'directory'
  | 'fifo'
  /** Extended header records for the next entry ('x'). */
  | 'pax'
  /** Extended header records for every later entry ('g'). */
  | 'pax-global'
  /** GNU: the next entry's name ('L') or link target ('K') as the body. */
  | 'gnu-long-name'
  | 'gnu-long-link';

export interface TarHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch; PAX may add a fraction. */
  mtime: number;
  /** Only PAX carries one; undefined means "use mtime". */
  atime?: number;
  type: TarEntryType;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** Byte offset of this header in the uncompressed tar, for error messages. */
  offset: number;
}

// Offsets and lengths of the ustar fields.
const NAME = [0, 100] as const;
const MODE = [100, 8] as const;
const UID = [108, 8] as const;
const GID = [116, 8] as const;
const SIZE = [124, 12] as const;
const MTIME = [136, 12] as const;
const CHECKSUM = [148, 8] as const;
const TYPEFLAG = 156;
const LINKNAME = [157, 100] as const;
const MAGIC = [257, 6] as const;
const UNAME = [265, 32] as const;
const GNAME = [297, 32] as const;
const DEVMAJOR = [329, 8] as const;
const DEVMINOR = [337, 8] as const;
const PREFIX = [345, 155] as const;

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  // Contiguous files are regular files everywhere that matters.
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char-device',
  '4': 'block-device',
  '5': 'directory',
  '6': 'fifo',
  x: 'pax',
  g: 'pax-global',
  L: 'gnu-long-name',
  K: 'gnu-long-link',
};

function tarError(offset: number, reason: string): LayerError {
  return new LayerError('ELAYER_TAR', `tar header at byte ${offset}: ${reason}`, { details: { offset } });
}

/** A NUL-terminated string field. Names are UTF-8 in every producer we know of (Go, GNU tar, BuildKit). */
function text(block: Uint8Array, [start, length]: readonly [number, number]): string {
  let end = start;
  while (end < start + length && block[end] !== 0) end++;
  if (end === start) return '';
  return asBuffer(block).toString('utf8', start, end);
}

function asBuffer(block: Uint8Array): Buffer {
  return Buffer.isBuffer(block) ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength);
}

/**
 * An octal field (leading spaces, trailing NUL or space), or GNU base-256 when the high bit of the
 * first byte is set, which Go and GNU tar use for uids and sizes that do not fit in octal.
 */
export function parseNumber(block: Uint8Array, [start, length]: readonly [number, number], offset: number, field: string): number {
  const bytes = block.subarray(start, start + length);
  if (bytes[0] & 0x80) {
    if (bytes[0] === 0xff) throw tarError(offset, `negative base-256 ${field}`);
    let value = bytes[0] & 0x7f;
    for (let i = 1; i < bytes.length; i++) value = value * 256 + bytes[i];
    if (!Number.isSafeInteger(value)) throw tarError(offset, `${field} is too large`);
    return value;
  }
  // The digits run from the first non-space to the first NUL or space. A byte loop: this runs
  // seven times per entry, and a regex over a decoded string showed up in unpack profiles.
  let i = 0;
  while (i < bytes.length && bytes[i] === 0x20) i++;
  const first = i;
  let value = 0;
  for (; i < bytes.length && bytes[i] !== 0 && bytes[i] !== 0x20; i++) {
    const digit = bytes[i] - 0x30;
    if (digit < 0 || digit > 7) {
      let end = i;
      while (end < bytes.length && bytes[end] !== 0 && bytes[end] !== 0x20) end++;
      throw tarError(offset, `${field} is not an octal number: ${JSON.stringify(Buffer.from(bytes.subarray(first, end)).toString('latin1'))}`);
    }
    value = value * 8 + digit;
  }
  return value;
}

/**
 * POSIX sums the bytes as unsigned; some old producers summed them as signed chars. Accept either,
 * as GNU tar and Go's archive/tar do.
 */
function checksumMatches(block: Uint8Array, offset: number): boolean {
  const recorded = parseNumber(block, CHECKSUM, offset, 'checksum');
  // The checksum field itself counts as eight spaces.
  let unsigned = CHECKSUM[1] * 0x20;
  let high = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    if (i === CHECKSUM[0]) i += CHECKSUM[1];
    const byte = block[i];
    unsigned += byte;
    if (byte > 127) high++;
  }
  return recorded === unsigned || recorded === unsigned - 256 * high;
}

export function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK_SIZE; i++) if (block[i] !== 0) return false;
  return true;
}

/** Parses a non-zero header block; `offset` is where it sits in the tar, for error messages. */
export function parseHeader(block: Uint8Array, offset: number): TarHeader {
  if (block.length !== BLOCK_SIZE) throw tarError(offset, `a header block is ${BLOCK_SIZE} bytes, got ${block.length}`);
  if (!checksumMatches(block, offset)) throw tarError(offset, 'checksum mismatch (not a tar archive, or corrupt)');

  const flag = String.fromCharCode(block[TYPEFLAG]);
  let type = TYPES[flag];
  if (type === undefined) {
    // 'S' (GNU sparse), 'V', 'M', 'N', 'A'-'Z' vendor types: refuse rather than write something wrong.
    throw tarError(offset, `unsupported entry type ${JSON.stringify(flag)} for ${JSON.stringify(text(block, NAME))}`);
  }

  let name = text(block, NAME);
  // Only POSIX ustar ("ustar\0") has a prefix field; GNU ("ustar  ") keeps atime/ctime there.
  if (asBuffer(block).toString('latin1', MAGIC[0], MAGIC[0] + MAGIC[1]) === 'ustar\0') {
    const prefix = text(block, PREFIX);
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  // Pre-POSIX archives mark directories only by the trailing slash.
  if (type === 'file' && flag !== '7' && name.endsWith('/')) type = 'directory';

  return {
    name,
    mode: parseNumber(block, MODE, offset, 'mode'),
    uid: parseNumber(block, UID, offset, 'uid'),
    gid: parseNumber(block, GID, offset, 'gid'),
    size: parseNumber(block, SIZE, offset, 'size'),
    mtime: parseNumber(block, MTIME, offset, 'mtime'),
    type,
    linkname: text(block, LINKNAME),
    uname: text(block, UNAME),
    gname: text(block, GNAME),
    devmajor: parseNumber(block, DEVMAJOR, offset, 'devmajor'),
    devminor: parseNumber(block, DEVMINOR, offset, 'devminor'),
    offset,
  };
}
