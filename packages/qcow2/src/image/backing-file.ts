// Rewrites which backing file a qcow2 image names (rebase): the header's backing_file_offset/size,
// the backing format extension, and the name after the extensions, all in cluster 0, rewritten in one
// write. Other extensions (feature names, bitmaps, unknown ones) are kept as they are.
import { imageError } from '../errors.js';
import type { HeaderExtension } from '../format/extensions.js';
import { encodeFirstCluster } from '../format/layout.js';
import { ImageFile } from './file.js';
import { readMetadata } from './metadata.js';

export async function setBackingFile(path: string, backingFile: string | undefined, backingFormat: string | undefined): Promise<void> {
  const file = await ImageFile.open(path, false);
  try {
    const meta = await readMetadata(file);
    const { header, g } = meta;
    if (backingFile === undefined && backingFormat !== undefined) {
      throw imageError('EIMG_BAD_OPTION', path, 'a backing format needs a backing file');
    }
    const extensions: HeaderExtension[] = meta.extensions.filter((e) => e.kind !== 'backingFormat');
    if (backingFormat !== undefined) extensions.unshift({ kind: 'backingFormat', format: backingFormat });
    const first = encodeFirstCluster(header, extensions, backingFile, g.clusterSize, path);
    await file.sync(); // whatever was copied into the image is on disk before it stops relying on the old backing file
    await file.write(first, 0);
    await file.sync();
  } finally {
    await file.close();
  }
}
