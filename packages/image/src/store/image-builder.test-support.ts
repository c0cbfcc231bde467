// Test-only: images made of tar-stream layers, written into a store or an OCI layout directory.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzip, sha256, tarOf, type FixtureEntry } from '../layer-builder.test-support.js';
import { MediaType } from './oci.js';
import type { ImageStore } from './store.js';

export interface BuiltBlob {
  mediaType: string;
  digest: string;
  size: number;
  bytes: Buffer;
}

export interface BuiltImage {
  manifest: BuiltBlob;
  config: BuiltBlob;
  layers: BuiltBlob[];
  diffIds: string[];
}

function blob(mediaType: string, bytes: Buffer): BuiltBlob {
  return { mediaType, digest: sha256(bytes), size: bytes.length, bytes };
}

const describe = ({ mediaType, digest, size }: BuiltBlob) => ({ mediaType, digest, size });

/** An image whose layers hold `layers` (gzip unless `compress: false`); `label` makes configs differ. */
export async function buildImage(layers: FixtureEntry[][], options: { label?: string; compress?: boolean; created?: string; architecture?: string } = {}): Promise<BuiltImage> {
  const built: BuiltBlob[] = [];
  const diffIds: string[] = [];
  for (const entries of layers) {
    const tar = await tarOf(entries);
    diffIds.push(sha256(tar));
    built.push(options.compress === false ? blob(MediaType.layer, tar) : blob(MediaType.layerGzip, gzip(tar)));
  }
  const config = blob(
    MediaType.config,
    Buffer.from(
      JSON.stringify({
        created: options.created ?? '2024-01-02T03:04:05Z',
        architecture: options.architecture ?? 'amd64',
        os: 'linux',
        config: { Cmd: ['sh'], Labels: { label: options.label ?? 'test' } },
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: layers.map(() => ({ created_by: 'test' })),
      }),
    ),
  );
  const manifest = blob(MediaType.manifest, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.manifest, config: describe(config), layers: built.map(describe) })));
  return { manifest, config, layers: built, diffIds };
}

export async function addToStore(store: ImageStore, image: BuiltImage, names: string[] = []) {
  for (const b of [image.config, ...image.layers, image.manifest]) await store.blobs.put(b.bytes, { digest: b.digest });
  return store.addImage(image.manifest.digest, { names });
}

/** An OCI layout with `images`, each entry annotated as given. */
export async function writeLayout(dir: string, images: Array<{ image: BuiltImage; annotations?: Record<string, string> }>, extra: BuiltBlob[] = [], indexEntries?: unknown[]) {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const { image } of images) {
    for (const b of [image.config, ...image.layers, image.manifest]) await writeFile(join(dir, 'blobs', 'sha256', b.digest.slice(7)), b.bytes);
  }
  for (const b of extra) await writeFile(join(dir, 'blobs', 'sha256', b.digest.slice(7)), b.bytes);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const manifests = indexEntries ?? images.map(({ image, annotations }) => ({ ...describe(image.manifest), annotations }));
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
}

export { blob as builtBlob, describe as descriptorOf };
