// The OCI (and Docker v2) documents an image is made of, parsed and checked without I/O: index,
// manifest, config. Docker schema 2 types are accepted wherever the OCI ones are, since registries and
// `docker save` still produce them; isola writes OCI types.
import { ImageError } from '../errors.js';
import { isDigest } from './digest.js';

export const MediaType = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export const INDEX_TYPES: readonly string[] = [MediaType.index, MediaType.dockerList];
export const MANIFEST_TYPES: readonly string[] = [MediaType.manifest, MediaType.dockerManifest];

export const Annotation = {
  refName: 'org.opencontainers.image.ref.name',
  /** containerd's full image name on an index.json entry; isola writes and reads it too. */
  containerdName: 'io.containerd.image.name',
  /** tools/busybox-image names its image with this one. */
  isolaName: 'io.isola.image.name',
} as const;

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
  urls?: string[];
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: Record<string, unknown>;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: Array<Record<string, unknown>>;
}

function bad(what: string, why: string): ImageError {
  return new ImageError('EIMAGE_FORMAT', `${what}: ${why}`);
}

function parseJson(bytes: Uint8Array | string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw bad(what, `not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(what, 'not a JSON object');
  return value as Record<string, unknown>;
}

export function checkDescriptor(value: unknown, what: string): Descriptor {
  const d = value as Descriptor;
  if (typeof d !== 'object' || d === null) throw bad(what, 'descriptor is not an object');
  if (typeof d.mediaType !== 'string' || d.mediaType === '') throw bad(what, 'descriptor has no mediaType');
  if (!isDigest(d.digest)) throw bad(what, `descriptor digest ${JSON.stringify(d.digest)} is not sha256:<64 hex>`);
  if (!Number.isSafeInteger(d.size) || d.size < 0) throw bad(what, `descriptor size ${JSON.stringify(d.size)} is not a byte count`);
  return d;
}

/** Whether the JSON is an index (by mediaType, or by shape when the optional mediaType is absent). */
export function isIndexDocument(doc: Record<string, unknown>, mediaType?: string): boolean {
  const type = (doc.mediaType as string | undefined) ?? mediaType;
  if (type !== undefined) return INDEX_TYPES.includes(type);
  return Array.isArray(doc.manifests) && doc.config === undefined;
}

export function parseIndex(bytes: Uint8Array | string, what = 'image index'): ImageIndex {
  const doc = parseJson(bytes, what);
  if (doc.schemaVersion !== 2) throw bad(what, `schemaVersion ${JSON.stringify(doc.schemaVersion)} is not 2`);
  if (!Array.isArray(doc.manifests)) throw bad(what, 'no manifests array');
  (doc.manifests as unknown[]).forEach((m, i) => checkDescriptor(m, `${what} manifests[${i}]`));
  return doc as unknown as ImageIndex;
}

export function parseManifest(bytes: Uint8Array | string, what = 'image manifest'): ImageManifest {
  const doc = parseJson(bytes, what);
  if (doc.schemaVersion !== 2) {
    throw bad(what, `schemaVersion ${JSON.stringify(doc.schemaVersion)} is not 2 (Docker schema 1 manifests are not supported)`);
  }
  if (doc.mediaType !== undefined && !MANIFEST_TYPES.includes(doc.mediaType as string)) throw bad(what, `mediaType ${JSON.stringify(doc.mediaType)} is not an image manifest`);
  checkDescriptor(doc.config, `${what} config`);
  if (!Array.isArray(doc.layers)) throw bad(what, 'no layers array');
  (doc.layers as unknown[]).forEach((l, i) => checkDescriptor(l, `${what} layers[${i}]`));
  return doc as unknown as ImageManifest;
}

export function parseConfig(bytes: Uint8Array | string, what = 'image config'): ImageConfig {
  const doc = parseJson(bytes, what);
  const rootfs = doc.rootfs as ImageConfig['rootfs'] | undefined;
  if (rootfs?.type !== 'layers' || !Array.isArray(rootfs.diff_ids)) throw bad(what, 'no rootfs.diff_ids');
  rootfs.diff_ids.forEach((d, i) => {
    if (!isDigest(d)) throw bad(what, `rootfs.diff_ids[${i}] ${JSON.stringify(d)} is not sha256:<64 hex>`);
  });
  if (typeof doc.architecture !== 'string' || typeof doc.os !== 'string') throw bad(what, 'no architecture or os');
  return doc as unknown as ImageConfig;
}

/** The platform this process runs on, in OCI words. */
export function hostPlatform(): Platform {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch };
}

/** The index entry for `platform` (variant only compared when asked for), or an EIMAGE_PLATFORM. */
export function selectPlatform(index: ImageIndex, platform: Platform, what: string): Descriptor {
  const candidates = index.manifests.filter((m) => MANIFEST_TYPES.includes(m.mediaType));
  const match = candidates.find(
    (m) => m.platform?.os === platform.os && m.platform?.architecture === platform.architecture && (platform.variant === undefined || m.platform?.variant === platform.variant),
  );
  if (match !== undefined) return match;
  const offered = candidates.map((m) => (m.platform ? `${m.platform.os}/${m.platform.architecture}${m.platform.variant ? `/${m.platform.variant}` : ''}` : 'unknown')).join(', ');
  throw new ImageError('EIMAGE_PLATFORM', `${what} has no image for ${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''} (it has: ${offered || 'none'})`, {
    details: { platform },
  });
}

/** Canonical JSON bytes as isola writes its own documents (no whitespace, key order as given). */
export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}
