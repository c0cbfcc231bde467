// `isola load`: an OCI layout directory, an OCI archive or a docker-save archive (plain or gzipped,
// from a file or a stream) into the store. The input's shape decides the format: a directory with
// oci-layout, or an archive with manifest.json (docker) or index.json (OCI).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isIsolaError } from '@isola/errors';
import { ImageError, describeFsError, fsErrorDetails } from '../errors.js';
import type { Lease } from '../store/leases.js';
import type { ImageStore } from '../store/store.js';
import { importDocker, importOci, nameUnnamed, type ImportOptions, type LoadedImage } from './import.js';
import { ArchiveFiles, DirectoryFiles } from './source.js';

export type LoadFormat = 'oci-dir' | 'oci-archive' | 'docker-archive';

export interface LoadResult {
  format: LoadFormat;
  images: LoadedImage[];
}

/** Loads `input` (a path, or the bytes of an archive) into `store`. */
export async function loadImage(store: ImageStore, input: string | AsyncIterable<Uint8Array>, options: ImportOptions = {}): Promise<LoadResult> {
  const label = typeof input === 'string' ? input : 'standard input';
  const lease = await store.lease();
  try {
    const result = await loadLeased(store, input, options, label, lease);
    // Files of the archive that no image refers to (small ones kept in the store, not in memory) go now.
    await store.dropLease(lease);
    return result;
  } catch (error) {
    // The blobs this load stored belong to no image: deleted now rather than at the next prune.
    await store.dropLease(lease);
    throw named(error, label);
  } finally {
    await lease.release();
  }
}

/**
 * The error with the input's name in front, unless it names the input already. isola's own errors keep
 * their class and code; a file-system error (the store's disk full, say) is the store's, not the archive's.
 */
function named(error: unknown, label: string): unknown {
  if (!(error instanceof Error) || error.message.includes(label)) return error;
  if (isIsolaError(error)) {
    error.message = `${label}: ${error.message}`;
    return error;
  }
  if ((error as NodeJS.ErrnoException).syscall !== undefined) {
    return new ImageError('EIMAGE_STORE', `${label}: ${describeFsError(error)}`, { cause: error, details: fsErrorDetails(error) });
  }
  return new ImageError('EIMAGE_FORMAT', `${label}: ${error.message}`, { cause: error });
}

async function loadLeased(store: ImageStore, input: string | AsyncIterable<Uint8Array>, options: ImportOptions, label: string, lease: Lease): Promise<LoadResult> {
  let result: LoadResult;
  if (typeof input === 'string') {
    let info;
    try {
      info = await stat(input);
    } catch (error) {
      throw new ImageError('EIMAGE_NOT_FOUND', `load ${input}: ${describeFsError(error)}`, { details: fsErrorDetails(error) });
    }
    if (info.isDirectory()) {
      const files = new DirectoryFiles(label, input, store, lease);
      const manifest = await files.text('manifest.json');
      result = manifest && !(await files.text('oci-layout'))
        ? { format: 'docker-archive', images: await importDocker(store, files, manifest) }
        : { format: 'oci-dir', images: await importOci(store, files, options) };
      await nameUnnamed(store, result.images, options.tag, label);
      return result;
    }
  }
  const source = typeof input === 'string' ? createReadStream(input, { highWaterMark: 1 << 20 }) : input;
  const files = await ArchiveFiles.read(label, source, store, lease);
  const manifest = await files.text('manifest.json');
  if (manifest !== undefined) result = { format: 'docker-archive', images: await importDocker(store, files, manifest) };
  else if ((await files.text('index.json')) !== undefined) result = { format: 'oci-archive', images: await importOci(store, files, options) };
  else {
    throw new ImageError('EIMAGE_FORMAT', `${label} is neither an OCI archive (no index.json) nor a docker archive (no manifest.json); it has: ${files.names().slice(0, 5).join(', ') || 'no files'}`);
  }
  await nameUnnamed(store, result.images, options.tag, label);
  return result;
}
