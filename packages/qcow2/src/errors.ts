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
  | 'EIMG_INTERRUPTED'
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

/**
 * A failed read/write/open, in crun's style: `open("/x", O_RDONLY): ENOENT (No such file or directory)`.
 * `call` is the syscall, optionally with its other arguments in parentheses and a note after them
 * ("open(O_RDWR) for metadata"). The system error is not kept as `cause`: its message ("ENOENT: no
 * such file or directory, open '/x'") would only repeat this one; its code and syscall go in details.
 */
export function ioError(path: string, call: string, cause: unknown, details: Record<string, unknown> = {}): IsolaError {
  const system = cause as NodeJS.ErrnoException | undefined;
  const errno = typeof system?.code === 'string' ? system.code : 'EIO';
  const [, name, args, note] = /^([^(]*)(?:\((.*)\))?(.*)$/.exec(call)!;
  const text = systemText(system?.message, errno);
  const message = `${name}(${JSON.stringify(path)}${args ? `, ${args}` : ''})${note}: ${errno}${text ? ` (${text})` : ''}`;
  return new IsolaError('EIMG_IO', message, { details: { path, call, errno, syscall: system?.syscall, ...details } });
}

/**
 * strerror's text, capitalised as glibc has it, from Node's "ENOENT: no such file or directory, open '/x'"
 * or @isola/sys's "lseek(3, 0, SEEK_DATA): EBADF (Bad file descriptor)".
 */
function systemText(message: string | undefined, errno: string): string {
  if (message === undefined) return '';
  const m = new RegExp(`^${errno}: ([^,]+)`).exec(message) ?? new RegExp(`: ${errno} \\(([^)]+)\\)$`).exec(message);
  return m === null ? '' : m[1].charAt(0).toUpperCase() + m[1].slice(1);
}

/** Formats an offset for messages: qemu-img and hexdump users think in hex. */
export function hex(value: number | bigint): string {
  return `0x${value.toString(16)}`;
}
