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
