// The store's small mutable state, one JSON file: image records by manifest digest, and tags
// (normalized `repository:tag` → manifest digest). It is only read and written under the store lock,
// and replaced atomically, so two processes never lose each other's changes and a crash leaves the
// old or the new file, never half of one.
import { readFile } from 'node:fs/promises';
import { ImageError, describeFsError, errnoCode, fsErrorDetails } from '../errors.js';
import { writeFileAtomic } from './files.js';
import type { Descriptor } from './oci.js';

export interface ImageRecord {
  /** Manifest digest: the image's identity in the store. */
  digest: string;
  manifestMediaType: string;
  /** Config digest: the IMAGE ID docker and podman print. */
  config: string;
  layers: Descriptor[];
  diffIds: string[];
  /** Bytes of the manifest, config and layer blobs as stored (compressed). */
  size: number;
  /** From the config, when it says. */
  created?: string;
  architecture: string;
  os: string;
  /** When the store got it. */
  added: string;
  /** The multi-platform index it was pulled or loaded through, if any (kept as a blob). */
  index?: string;
  /** `repository@digest` names it is known by in registries. */
  repoDigests: string[];
}

export interface Metadata {
  version: 1;
  images: Record<string, ImageRecord>;
  tags: Record<string, string>;
}

export const EMPTY: Metadata = { version: 1, images: {}, tags: {} };

export async function readMetadata(path: string): Promise<Metadata> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return structuredClone(EMPTY);
    throw new ImageError('EIMAGE_STORE', `read ${path}: ${describeFsError(error)}`, { details: fsErrorDetails(error) });
  }
  try {
    const parsed = JSON.parse(text) as Metadata;
    if (parsed.version !== 1 || typeof parsed.images !== 'object' || typeof parsed.tags !== 'object') throw new Error('unknown version or shape');
    return parsed;
  } catch (error) {
    throw new ImageError('EIMAGE_FORMAT', `image store metadata ${path} is damaged: ${(error as Error).message}`, { cause: error });
  }
}

export async function writeMetadata(path: string, metadata: Metadata): Promise<void> {
  try {
    await writeFileAtomic(path, `${JSON.stringify(metadata, null, 1)}\n`);
  } catch (error) {
    throw new ImageError('EIMAGE_STORE', `write ${path}: ${describeFsError(error)}`, { details: fsErrorDetails(error) });
  }
}

/** Tags pointing at `digest`, sorted. */
export function tagsOf(metadata: Metadata, digest: string): string[] {
  return Object.keys(metadata.tags)
    .filter((tag) => metadata.tags[tag] === digest)
    .sort();
}
