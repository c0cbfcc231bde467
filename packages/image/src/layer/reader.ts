// A layer blob read end to end as planned entries: blob → decompress → tar → LayerEntry. The visitor
// decides what to do with each entry (write it, or only look); the digests are checked once the last
// byte is read, so a visitor that writes must be able to undo its work when this throws.
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
  for await (const tarEntry of readTar(blob.tar)) {
    entries++;
    await visit(planEntry(tarEntry), tarEntry.body());
  }
  const digests = blob.digests();
  verifyDigests(digests, options);
  return { ...digests, entries };
}
