// Builds isola's default image from the host's busybox-static into the per-user cache, or reuses
// the cached one when it was built from the same binary by the same revision of this builder.
import { resolve } from 'node:path';
import { IsolaError } from '@isola/errors';
import { DEFAULT_BUSYBOX, busyboxVersion, listApplets, readBusybox } from './busybox.js';
import { defaultImageDir } from './cache-dir.js';
import { Annotation, BUILDER_REVISION, IMAGE_TAG, MediaType, planImage } from './image.js';
import { LAYER_MTIME, buildLayer } from './layer.js';
import { hasBlob, readManifests, writeLayout } from './layout.js';
import { planRootfs } from './rootfs.js';

export interface BuildOptions {
  /** The busybox-static binary to package; `/bin/busybox` by default. */
  busybox?: string;
  /** The OCI layout directory to write; `defaultImageDir()` by default. */
  outDir?: string;
  /** Rebuild even when the cached image is up to date. */
  force?: boolean;
}

export interface BuildResult {
  /** The OCI layout directory; the image is `<path>:latest`. */
  path: string;
  /** `sha256:<hex>` of the image manifest. */
  manifestDigest: string;
  /** False when the cached image was reused. */
  rebuilt: boolean;
}

/** The digest of the cached image's manifest if it was built from `sourceDigest` by this revision. */
async function cachedManifest(dir: string, sourceDigest: string): Promise<string | undefined> {
  const manifest = (await readManifests(dir))?.find(
    (m) =>
      m.mediaType === MediaType.manifest &&
      m.annotations?.[Annotation.refName] === IMAGE_TAG &&
      m.annotations?.[Annotation.sourceDigest] === sourceDigest &&
      m.annotations?.[Annotation.builderRevision] === BUILDER_REVISION,
  );
  return manifest && (await hasBlob(dir, manifest.digest)) ? manifest.digest : undefined;
}

export async function buildBusyboxImage(options: BuildOptions = {}): Promise<BuildResult> {
  const path = resolve(options.outDir ?? defaultImageDir());
  const busybox = await readBusybox(options.busybox ?? DEFAULT_BUSYBOX);

  if (!options.force) {
    const manifestDigest = await cachedManifest(path, busybox.digest);
    if (manifestDigest) return { path, manifestDigest, rebuilt: false };
  }

  const [applets, version] = await Promise.all([listApplets(busybox.path), busyboxVersion(busybox.path)]);
  const layer = await buildLayer(planRootfs(applets, busybox.bytes));
  const image = planImage({ layer, architecture: busybox.architecture, version, sourceDigest: busybox.digest, created: LAYER_MTIME });
  try {
    await writeLayout(path, image);
  } catch (error) {
    throw new IsolaError('EIMAGE_WRITE', `write the busybox image to ${path}`, { cause: error, details: { path } });
  }
  return { path, manifestDigest: image.manifestDigest, rebuilt: true };
}
