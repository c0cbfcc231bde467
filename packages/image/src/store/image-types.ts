// Whether a manifest describes a container image isola can run: a config of an image config type and
// layers of a tar media type. Checked before any blob is fetched, so that pulling a Helm chart or some
// other OCI artifact fails at once, naming the type, rather than after the download (or at `run`).
import { ImageError } from '../errors.js';
import { compressionOfMediaType } from '../layer/blob.js';
import { MediaType, type ImageManifest } from './oci.js';

const CONFIG_TYPES: readonly string[] = [MediaType.config, MediaType.dockerConfig];

export function checkImageTypes(manifest: ImageManifest, what: string): void {
  const configType = manifest.config.mediaType;
  if (!CONFIG_TYPES.includes(configType)) {
    throw new ImageError('EIMAGE_FORMAT', `${what}: not a container image: config media type ${JSON.stringify(configType)} (an artifact?)`, { details: { mediaType: configType } });
  }
  manifest.layers.forEach((layer, i) => {
    if (compressionOfMediaType(layer.mediaType) === undefined) {
      throw new ImageError('EIMAGE_FORMAT', `${what}: layers[${i}] has media type ${JSON.stringify(layer.mediaType)}, not a tar layer`, { details: { mediaType: layer.mediaType } });
    }
  });
}
