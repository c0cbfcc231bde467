// Whether two paths name one file, and whether an image's backing chain holds a given file: what
// create, convert and rebase check before they write, so that none destroys an image it reads.
import { stat } from 'node:fs/promises';
import type { Image } from './image.js';

/** Whether both paths name one existing file (a hard link, a symlink or the same name). */
async function sameFile(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a).catch(() => undefined), stat(b).catch(() => undefined)]);
  return sa !== undefined && sb !== undefined && sa.dev === sb.dev && sa.ino === sb.ino;
}

/** The path of the first image in `chain` (that image, then its backing files) that is the file `path` names. */
export async function chainFileAt(chain: Image | undefined, path: string): Promise<string | undefined> {
  for (let image = chain; image !== undefined; image = image.backing) {
    if (await sameFile(image.path, path)) return image.path;
  }
  return undefined;
}
