// The OCI documents of the image (config, manifest, index), built from the layer without touching
// disk. Objects are written with a fixed key order and no whitespace, so their digests depend on
// nothing but the busybox binary.
import { sha256, type Layer } from './layer.js';

export const MediaType = {
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  config: 'application/vnd.oci.image.config.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
} as const;

/**
 * Annotations on the manifest's entry in index.json. `ref.name` is the standard tag (`<dir>:latest`
 * for umoci and skopeo). isola looks the image up by `io.isola.image.name`, and decides whether the
 * cached image is stale from the source binary's digest and the builder's revision.
 */
export const Annotation = {
  refName: 'org.opencontainers.image.ref.name',
  imageName: 'io.isola.image.name',
  sourceDigest: 'io.isola.busybox.source-digest',
  builderRevision: 'io.isola.busybox.builder-revision',
} as const;

export const IMAGE_NAME = 'busybox';
export const IMAGE_TAG = 'latest';

// Bump when the rootfs plan or these documents change, so caches built by an older version of this
// package are rebuilt even though the host's busybox did not change.
export const BUILDER_REVISION = '1';

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface Blob {
  digest: string;
  bytes: Buffer;
}

export interface ImagePlan {
  /** Every blob of the layout: layer, config, manifest. */
  blobs: Blob[];
  /** The bytes of index.json. */
  index: Buffer;
  manifestDigest: string;
}

export interface ImageSource {
  layer: Layer;
  /** OCI architecture of the binary, e.g. `amd64`. */
  architecture: string;
  /** First line of `busybox --help` without its tail, e.g. `BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1)`. */
  version: string;
  /** `sha256:<hex>` of the host binary the layer was built from. */
  sourceDigest: string;
  /** The instant recorded as `created`; the layer's mtime, so that it is fixed as well. */
  created: Date;
}

function json(value: unknown): Blob {
  const bytes = Buffer.from(JSON.stringify(value));
  return { digest: sha256(bytes), bytes };
}

function describe(mediaType: string, blob: Blob): Descriptor {
  return { mediaType, digest: blob.digest, size: blob.bytes.length };
}

export function planImage(source: ImageSource): ImagePlan {
  const created = source.created.toISOString();
  const layer: Blob = { digest: source.layer.digest, bytes: source.layer.blob };
  const config = json({
    created,
    architecture: source.architecture,
    os: 'linux',
    config: { Env: [`PATH=${PATH}`], Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: [source.layer.diffId] },
    history: [{ created, created_by: `isola-build-busybox-image: ${source.version}` }],
  });
  const manifest = json({
    schemaVersion: 2,
    mediaType: MediaType.manifest,
    config: describe(MediaType.config, config),
    layers: [describe(MediaType.layer, layer)],
  });
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.index,
      manifests: [
        {
          ...describe(MediaType.manifest, manifest),
          annotations: {
            [Annotation.refName]: IMAGE_TAG,
            [Annotation.imageName]: IMAGE_NAME,
            [Annotation.sourceDigest]: source.sourceDigest,
            [Annotation.builderRevision]: BUILDER_REVISION,
          },
        },
      ],
    }),
  );
  return { blobs: [layer, config, manifest], index, manifestDigest: manifest.digest };
}
