// `isola inspect`: an image as `docker image inspect` / `podman image inspect` print it, so scripts
// written for them (`.Config.Env`, `.RootFS.Layers`, `.RepoTags`) work unchanged. Size is the stored
// (compressed) size of the blobs, as podman reports it.
import { familiarName, familiarRepository, parseReference, repositoryOf } from './reference.js';
import { tagsOf } from './metadata.js';
import type { ImageStore } from './store.js';

export interface ImageInspect {
  Id: string;
  Digest: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created?: string;
  Author?: string;
  Architecture: string;
  Os: string;
  Variant?: string;
  Size: number;
  Config: Record<string, unknown>;
  RootFS: { Type: 'layers'; Layers: string[] };
  Layers: string[];
  History: Array<Record<string, unknown>>;
  ManifestMediaType: string;
  Metadata: { Added: string };
}

export async function inspectImage(store: ImageStore, text: string): Promise<ImageInspect> {
  const metadata = await store.metadata();
  const { record } = await store.resolve(text, metadata);
  const config = await store.readConfig(record);
  const tags = tagsOf(metadata, record.digest);
  const repos = new Set(tags.map((t) => repositoryOf(parseReference(t))));
  const repoDigests = new Set(record.repoDigests.map((d) => familiarName(d)));
  for (const repo of repos) repoDigests.add(`${familiarRepository(repo)}@${record.index ?? record.digest}`);
  return {
    Id: record.config,
    Digest: record.index ?? record.digest,
    RepoTags: tags.map(familiarName),
    RepoDigests: [...repoDigests].sort(),
    Created: config.created,
    Author: config.author,
    Architecture: config.architecture,
    Os: config.os,
    Variant: config.variant,
    Size: record.size,
    Config: config.config ?? {},
    RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
    Layers: record.layers.map((l) => l.digest),
    History: config.history ?? [],
    ManifestMediaType: record.manifestMediaType,
    Metadata: { Added: record.added },
  };
}
