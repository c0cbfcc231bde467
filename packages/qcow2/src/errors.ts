// Every error this package throws is an IsolaError with one of these codes. EQCOW2_* name a problem in
// a qcow2 file's structure (the message names the image and the field); EIMG_* are format-independent
// misuses of an Image (out of range, read-only, closed) and I/O failures, which carry the syscall and errno.
import { IsolaError } from '@isola/errors';

export type ImageErrorCode =
  | 'EIMG_IO'
  | 'EIMG_OUT_OF_RANGE'
  | 'EIMG_READ_ONLY'
  | 'EIMG_CLOSED'
  | 'EIMG_BAD_OPTION'
  | 'EIMG_WOULD_LOSE_DATA'
  | 'EQCOW2_BAD_MAGIC'
  | 'EQCOW2_BAD_VERSION'
  | 'EQCOW2_BAD_HEADER'
  | 'EQCOW2_BAD_EXTENSION'
  | 'EQCOW2_UNKNOWN_FEATURE'
  | 'EQCOW2_UNSUPPORTED_FEATURE'
  | 'EQCOW2_ENCRYPTED'
  | 'EQCOW2_BAD_OFFSET'
  | 'EQCOW2_TABLE_TOO_LARGE'
  | 'EQCOW2_L1_TOO_SMALL'
  | 'EQCOW2_BAD_L1_ENTRY'
  | 'EQCOW2_BAD_L2_ENTRY'
  | 'EQCOW2_BAD_REFCOUNT'
  | 'EQCOW2_BAD_COMPRESSED'
  | 'EQCOW2_BACKING_LOOP'
  | 'EQCOW2_BACKING_TOO_DEEP'
  | 'EQCOW2_BACKING_UNSUPPORTED'
  | 'EQCOW2_BACKING_OPEN'
  | 'EQCOW2_DATA_FILE'
  | 'EQCOW2_NOT_WRITABLE';

export function imageError(
  code: ImageErrorCode,
  path: string,
  problem: string,
  details: Record<string, unknown> = {},
  cause?: unknown,
): IsolaError {
  return new IsolaError(code, `${path}: ${problem}`, { details: { path, ...details }, cause });
}

/** A failed read/write/open: names the call, the path and the errno, and keeps the system error as cause. */
export function ioError(path: string, call: string, cause: unknown, details: Record<string, unknown> = {}): IsolaError {
  const errno = (cause as NodeJS.ErrnoException | undefined)?.code ?? 'EIO';
  return new IsolaError('EIMG_IO', `${call} \`${path}\`: ${errno}`, { details: { path, call, errno, ...details }, cause });
}

/** Formats an offset for messages: qemu-img and hexdump users think in hex. */
export function hex(value: number | bigint): string {
  return `0x${value.toString(16)}`;
}
