// The error codes @isola/image throws, in one list, so the CLI's exit-status table and the tests name
// the same strings. Every error about a tar entry names the entry as the archive spelled it: that is
// what a person can grep for in `tar -tvf`.
import { IsolaError } from '@isola/errors';

export type ImageErrorCode =
  /** The blob could not be read (missing file, I/O error). */
  | 'ELAYER_READ'
  /** The tar stream itself is malformed: bad checksum, bad number, oversized header, sparse file. */
  | 'ELAYER_TAR'
  /** The blob or the tar inside it ends early. */
  | 'ELAYER_TRUNCATED'
  /** The blob is not what was asked for: digest or diff_id mismatch. */
  | 'ELAYER_DIGEST'
  /** zstd, an unknown media type, or corrupt gzip. */
  | 'ELAYER_COMPRESSION'
  /** An entry's name or a whiteout would reach outside the rootfs, or replace the rootfs itself. */
  | 'ELAYER_PATH'
  /** A hard link whose target is outside the rootfs, missing, or a directory. */
  | 'ELAYER_LINK'
  /** A filesystem operation failed while applying an entry. */
  | 'ELAYER_APPLY';

export class LayerError extends IsolaError {
  declare readonly code: ImageErrorCode;

  constructor(code: ImageErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, options);
    this.name = 'LayerError';
  }
}

/** `layer entry "etc/passwd": <reason>`, with the entry in `details.entry` for JSON logs and tests. */
export function entryError(code: ImageErrorCode, entry: string, reason: string, cause?: unknown): LayerError {
  return new LayerError(code, `layer entry "${entry}": ${reason}`, { cause, details: { entry } });
}

/** The errno name of a Node fs error ("ENOENT"), or undefined for anything else. */
export function errnoCode(error: unknown): string | undefined {
  return error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
}

export type StoreErrorCode =
  /** No image by that name, tag or ID in the store. */
  | 'EIMAGE_NOT_FOUND'
  /** A name, tag or digest that does not parse. */
  | 'EIMAGE_REFERENCE'
  /** Bytes that do not hash to the digest that names them (on write or on read-back), or a size mismatch. */
  | 'EIMAGE_DIGEST'
  /** A manifest, index, config, layout or archive that is not what the spec says. */
  | 'EIMAGE_FORMAT'
  /** The store lock could not be taken in time. */
  | 'EIMAGE_LOCKED'
  /** A blob a manifest needs is not in the store. */
  | 'EIMAGE_MISSING_BLOB'
  /** An image or layer cannot be removed because something uses it. */
  | 'EIMAGE_IN_USE'
  /** A filesystem operation on the store failed. */
  | 'EIMAGE_STORE'
  /** Mounting or unmounting a container rootfs failed. */
  | 'EIMAGE_MOUNT'
  /** No manifest for the wanted platform in a multi-platform index. */
  | 'EIMAGE_PLATFORM'
  /** The registry answered with an error, refused the credentials, or could not be reached. */
  | 'EREGISTRY_HTTP'
  | 'EREGISTRY_AUTH'
  | 'EREGISTRY_UNREACHABLE';

/** Errors of the store, load/save, rootfs mounts and the registry client. */
export class ImageError extends IsolaError {
  declare readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, options);
    this.name = 'ImageError';
  }
}

/** "rename(\"/a\"): ENOSPC", from what Node puts on its fs errors; the message otherwise. */
export function describeFsError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (e?.syscall !== undefined && e.code !== undefined) {
    // Node's message is "ENOENT: no such file or directory, open '/x'": keep the strerror text.
    const text = new RegExp(`^${e.code}: ([^,]+)`).exec(e.message)?.[1];
    return `${e.syscall}${e.path ? `("${e.path}")` : ''}: ${e.code}${text ? ` (${text})` : ''}`;
  }
  return e instanceof Error ? e.message : String(error);
}

/**
 * What an error built from describeFsError keeps of the Node error, instead of it as `cause`: the
 * cause's message would only repeat the syscall, path and errno in a second form.
 */
export function fsErrorDetails(error: unknown): Record<string, unknown> {
  const e = error as NodeJS.ErrnoException;
  return { errno: e?.code, syscall: e?.syscall, path: e?.path };
}
