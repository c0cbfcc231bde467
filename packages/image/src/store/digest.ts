// Content digests as the OCI image spec writes them (`sha256:<64 hex>`). Only sha256 is stored: it is
// what every registry and tool produces, and refusing the rest up front keeps every digest that
// becomes a path inside the store a fixed-length lowercase hex string.
import { createHash } from 'node:crypto';
import { ImageError } from '../errors.js';

const SHA256 = /^sha256:[0-9a-f]{64}$/;

export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && SHA256.test(value);
}

/** `value` if it is a sha256 digest; an EIMAGE_REFERENCE naming `what` otherwise. */
export function checkDigest(value: unknown, what = 'digest'): string {
  if (isDigest(value)) return value;
  throw new ImageError('EIMAGE_REFERENCE', `${what} ${JSON.stringify(value)} is not a sha256 digest (sha256:<64 lowercase hex>)`, {
    details: { value },
  });
}

export function sha256Of(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function hexOf(digest: string): string {
  return digest.slice('sha256:'.length);
}

/** The 12-hex-digit ID docker and podman print. */
export function shortId(digest: string): string {
  return hexOf(digest).slice(0, 12);
}

/**
 * Chain IDs (image-spec config.md "Layer ChainID"): the identity of a stack of layers, so a layer
 * unpacked on top of the same parents is shared by every image that has that stack.
 */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) out.push(out.length === 0 ? diffId : sha256Of(`${out[out.length - 1]} ${diffId}`));
  return out;
}
