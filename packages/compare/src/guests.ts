// The guest and the loop binary `isola compare` runs, built with gcc on first use by the guest kit
// (tools/guest-kit/build-compare.mjs) into its cache directory.
import { fileURLToPath } from 'node:url';
import { IsolaError } from '@isola/errors';

const BUILDER = fileURLToPath(new URL('../../../tools/guest-kit/build-compare.mjs', import.meta.url));

export interface CompareGuests {
  /** PVH ELF: prints hello, times loop=N, exits with status 42. */
  guest: string;
  /** Static Linux binary: `loop N`. */
  loop: string;
}

export async function compareGuests(): Promise<CompareGuests> {
  try {
    const kit = (await import(BUILDER)) as { buildCompareGuests(): CompareGuests };
    return kit.buildCompareGuests();
  } catch (cause) {
    throw new IsolaError('ECOMPARE_GUEST', (cause as Error).message.split('\n')[0], { cause });
  }
}
