// The embedded default image: `busybox` resolves to the OCI layout tools/setup.sh builds from Debian's
// busybox-static, imported into the store on first use, so `isola run busybox ...` needs no registry.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type ImageStore, loadImage } from '@isola/image';

export function defaultImageLayout(): string {
  const cache = process.env.ISOLA_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'isola');
  return join(cache, 'images', 'busybox');
}

const DEFAULT_NAMES = new Set(['busybox', 'busybox:latest', 'docker.io/library/busybox', 'docker.io/library/busybox:latest']);

/** Imports the embedded busybox when `reference` names it and the store lacks it; true if it did. */
export async function importDefaultImage(store: ImageStore, reference: string): Promise<boolean> {
  if (!DEFAULT_NAMES.has(reference)) return false;
  const layout = defaultImageLayout();
  if (!existsSync(join(layout, 'index.json'))) return false;
  await loadImage(store, layout, { tag: 'busybox:latest' });
  return true;
}
