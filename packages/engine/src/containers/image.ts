// The image a new container starts from, found the way docker finds it (`--pull`):
//   missing (default)  the store's copy; else the embedded default (busybox); else pulled from its registry
//   always             pulled first, even when the store has it
//   never              the store's copy or the embedded default, or "not found"
import { IsolaError } from '@isola/errors';
import { type ImageStore, pullImageFrom } from '@isola/image';
import { importDefaultImage } from '../default-image.js';

export type PullPolicy = 'missing' | 'always' | 'never';

export function parsePullPolicy(value: string | undefined): PullPolicy {
  if (value === undefined) return 'missing';
  if (value === 'missing' || value === 'always' || value === 'never') return value;
  throw new IsolaError('EUSAGE', `invalid --pull "${value}": use missing, always or never`);
}

async function pull(images: ImageStore, reference: string): Promise<void> {
  // Summary lines are `isola pull`'s; here only the progress (on stderr) shows, as with docker run.
  await pullImageFrom(reference, { root: images.root });
}

export async function findImage(images: ImageStore, reference: string, policy: PullPolicy) {
  if (policy === 'always') await pull(images, reference);
  try {
    return await images.resolve(reference);
  } catch (error) {
    if ((error as { code?: string }).code !== 'EIMAGE_NOT_FOUND') throw error;
    if (await importDefaultImage(images, reference)) return images.resolve(reference);
    if (policy !== 'missing') throw error;
    process.stderr.write(`Unable to find image '${reference}' locally\n`);
    await pull(images, reference);
    return images.resolve(reference);
  }
}
