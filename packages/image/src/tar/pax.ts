// PAX extended header records ("%d %s=%s\n", the length counting the whole record in bytes), parsed
// as bytes. This is why @isola/image reads tar itself rather than through tar-stream: tar-stream
// decodes every value as UTF-8, which destroys binary xattr values such as `security.capability`
// (Go's archive/tar writes them raw), and file capabilities are what let `ping` run unprivileged.
import { LayerError } from '../errors.js';
import type { TarHeader } from './header.js';

export type PaxRecords = Map<string, Buffer>;

/** The prefix Go, GNU tar and bsdtar use for xattrs: `SCHILY.xattr.user.foo=<raw bytes>`. */
export const XATTR_PREFIX = 'SCHILY.xattr.';

export function parsePax(body: Uint8Array, offset: number): PaxRecords {
  const records: PaxRecords = new Map();
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  let at = 0;
  while (at < bytes.length) {
    // Some writers pad the body with NULs after the last record.
    if (bytes[at] === 0) break;
    const space = bytes.indexOf(0x20, at);
    const lengthText = space === -1 ? '' : bytes.toString('latin1', at, space);
    const length = /^[0-9]+$/.test(lengthText) ? parseInt(lengthText, 10) : NaN;
    if (!(length > 0) || at + length > bytes.length || bytes[at + length - 1] !== 0x0a) {
      throw new LayerError('ELAYER_TAR', `tar PAX header at byte ${offset}: malformed record at byte ${at} of its body`, {
        details: { offset },
      });
    }
    const record = bytes.subarray(space + 1, at + length - 1);
    const equals = record.indexOf(0x3d);
    if (equals <= 0) {
      throw new LayerError('ELAYER_TAR', `tar PAX header at byte ${offset}: record without a keyword at byte ${at}`, {
        details: { offset },
      });
    }
    records.set(record.toString('utf8', 0, equals), Buffer.from(record.subarray(equals + 1)));
    at += length;
  }
  return records;
}

function decimal(records: PaxRecords, key: string, offset: number): number | undefined {
  const value = records.get(key)?.toString('latin1');
  if (value === undefined) return undefined;
  // Times may carry a fraction and, before 1970, a sign.
  if (!/^-?[0-9]+(\.[0-9]+)?$/.test(value)) {
    throw new LayerError('ELAYER_TAR', `tar PAX header at byte ${offset}: ${key} is not a number: ${JSON.stringify(value)}`, {
      details: { offset },
    });
  }
  return Number(value);
}

/** The header with PAX overrides applied (path, linkpath, size, ids, times, names). */
export function applyPax(header: TarHeader, records: PaxRecords): TarHeader {
  const result = { ...header };
  const path = records.get('path');
  if (path !== undefined) result.name = path.toString('utf8');
  const linkpath = records.get('linkpath');
  if (linkpath !== undefined) result.linkname = linkpath.toString('utf8');
  const uname = records.get('uname');
  if (uname !== undefined) result.uname = uname.toString('utf8');
  const gname = records.get('gname');
  if (gname !== undefined) result.gname = gname.toString('utf8');
  result.size = decimal(records, 'size', header.offset) ?? result.size;
  result.uid = decimal(records, 'uid', header.offset) ?? result.uid;
  result.gid = decimal(records, 'gid', header.offset) ?? result.gid;
  result.mtime = decimal(records, 'mtime', header.offset) ?? result.mtime;
  const atime = decimal(records, 'atime', header.offset);
  if (atime !== undefined) result.atime = atime;
  return result;
}

/** `SCHILY.xattr.<name>` records as name → raw value, in archive order. */
export function xattrsOf(records: PaxRecords): Map<string, Buffer> {
  const xattrs = new Map<string, Buffer>();
  for (const [key, value] of records) {
    if (key.startsWith(XATTR_PREFIX) && key.length > XATTR_PREFIX.length) xattrs.set(key.slice(XATTR_PREFIX.length), value);
  }
  return xattrs;
}
