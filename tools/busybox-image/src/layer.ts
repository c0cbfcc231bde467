// Turns the rootfs plan into the image's one layer: a tar (whose sha256 is the config's diff_id) and
// its gzip (whose sha256 names the blob). Everything that could vary between hosts or runs is pinned
// (owner, mtime, entry order, compression level), so one busybox binary always gives one digest.
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { pack, type Header } from 'tar-stream';
import type { RootfsEntry } from './rootfs.js';

export interface Layer {
  /** The gzip-compressed tar, the bytes of the layer blob. */
  blob: Buffer;
  /** `sha256:<hex>` of `blob`. */
  digest: string;
  /** `sha256:<hex>` of the uncompressed tar. */
  diffId: string;
}

// The epoch rather than $SOURCE_DATE_EPOCH: the image is built on users' machines, where an inherited
// variable would make the digest depend on the environment of whoever built it first.
export const LAYER_MTIME = new Date(0);

// Pinned, not left to zlib's default, which a Node upgrade could change.
const GZIP_LEVEL = 9;

const gzipAsync = promisify(gzip);

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function header(entry: RootfsEntry): Partial<Header> & Pick<Header, 'name'> {
  const common = { mode: entry.mode, uid: 0, gid: 0, mtime: LAYER_MTIME };
  switch (entry.type) {
    case 'directory':
      // The trailing slash is how GNU tar and Go's archive/tar name directories.
      return { ...common, name: `${entry.path}/`, type: 'directory' };
    case 'file':
      return { ...common, name: entry.path, type: 'file', size: entry.content.length };
    case 'link':
      return { ...common, name: entry.path, type: 'link', linkname: entry.target };
  }
}

async function tar(entries: readonly RootfsEntry[]): Promise<Buffer> {
  const archive = pack();
  for (const entry of entries) {
    if (entry.type === 'file') archive.entry(header(entry), entry.content);
    else archive.entry(header(entry));
  }
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function buildLayer(entries: readonly RootfsEntry[]): Promise<Layer> {
  const uncompressed = await tar(entries);
  const blob = await gzipAsync(uncompressed, { level: GZIP_LEVEL });
  return { blob, digest: sha256(blob), diffId: sha256(uncompressed) };
}
