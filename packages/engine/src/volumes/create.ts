// `isola volume create [NAME]`: an empty named volume (a random name when none is given). Creating one
// that exists is no error, as in docker.
import { openStores } from '../containers/create.js';
import { VolumeStore } from './store.js';

export async function createVolume(name: string | undefined, options: { root?: string; labels?: Record<string, string> } = {}): Promise<string> {
  const { containers } = await openStores(options.root);
  return new VolumeStore(containers.root).create(name, { labels: options.labels }).record.name;
}
