// A layer blob read end to end as planned entries: blob → decompress → tar → LayerEntry. The visitor
// decides what to do with each entry (write it, or only look); the digests are checked once the last
// byte is read, so a visitor that writes must be able to undo its work when this throws.
import { LayerError } from '../errors.js';
import { readTar } from '../tar/reader.js';
import { openBlob, verifyDigests, type BlobDigests, type BlobOptions, type BlobSource } from './blob.js';
import { planEntry, type LayerEntry } from './entry.js';

export interface LayerReadResult extends BlobDigests {
  /** Tar entries, whiteouts included (extended headers not counted). */
  entries: number;
}

export type EntryVisitor = (entry: LayerEntry, body: AsyncIterable<Buffer>) => Promise<void>;

export async function readLayer(source: BlobSource, options: BlobOptions, visit: EntryVisitor): Promise<LayerReadResult> {
  const blob = await openBlob(source, options);
  let entries = 0;
  try {
    for await (const tarEntry of readTar(blob.tar)) {
      entries++;
      await visit(planEntry(tarEntry), tarEntry.body());
    }
  } catch (error) {
    // The tar reader knows bytes, not layers: name the layer whose tar is malformed.
    if (error instanceof LayerError && (error.code === 'ELAYER_TAR' || error.code === 'ELAYER_TRUNCATED') && !/\blayer\b/.test(error.message)) {
      const layer = options.expectedDigest ?? (typeof source === 'string' ? source : 'stream');
      throw new LayerError(error.code, `layer ${layer}: ${error.message}`, { cause: error, details: { ...error.details, layer } });
    }
    throw error;
  }
  const digests = blob.digests();
  verifyDigests(digests, options);
  return { ...digests, entries };
}
