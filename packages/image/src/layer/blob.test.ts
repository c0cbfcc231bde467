import { describe, expect, it } from 'vitest';
import { compressionOfMediaType, sniffCompression } from './blob.js';

describe('layer compression', () => {
  it('maps OCI and Docker layer media types, and nothing else', () => {
    expect(compressionOfMediaType('application/vnd.oci.image.layer.v1.tar')).toBe('none');
    expect(compressionOfMediaType('application/vnd.oci.image.layer.v1.tar+gzip')).toBe('gzip');
    expect(compressionOfMediaType('application/vnd.oci.image.layer.nondistributable.v1.tar+zstd')).toBe('zstd');
    expect(compressionOfMediaType('application/vnd.docker.image.rootfs.diff.tar.gzip')).toBe('gzip');
    expect(compressionOfMediaType('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip')).toBe('gzip');
    expect(compressionOfMediaType('application/vnd.oci.image.config.v1+json')).toBeUndefined();
  });

  it('sniffs gzip and zstd magic, and takes anything else for a tar', () => {
    expect(sniffCompression(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe('gzip');
    expect(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(sniffCompression(Buffer.alloc(512))).toBe('none');
    expect(sniffCompression(Buffer.alloc(0))).toBe('none');
  });
});
