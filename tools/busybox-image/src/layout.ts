// Writes and reads an OCI image layout directory (image-spec 1.x: oci-layout, index.json,
// blobs/sha256/<hex>). The layout is staged in a sibling temp directory and renamed into place, so
// an interrupted build never leaves a half-written image under the final name.
import { randomBytes } from 'node:crypto';
import { access, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Descriptor, ImagePlan } from './image.js';

const OCI_LAYOUT = JSON.stringify({ imageLayoutVersion: '1.0.0' });

function blobPath(dir: string, digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return join(dir, 'blobs', algorithm, hex);
}

/**
 * Temp file, fsync, rename: a content-addressed name must never point at partial content, not even
 * inside the staging directory, and the data must be on disk before the rename makes it visible.
 */
async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  const file = await open(temp, 'wx');
  try {
    await file.writeFile(bytes);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
}

function isErrno(error: unknown, ...codes: string[]): boolean {
  return error instanceof Error && codes.includes((error as NodeJS.ErrnoException).code ?? '');
}

/**
 * Moves the staged layout to `dir`. rename(2) cannot replace a non-empty directory, so an existing
 * image is first moved aside and deleted after (ENOENT there: a concurrent build moved it already).
 */
async function install(staged: string, dir: string): Promise<void> {
  try {
    await rename(staged, dir);
    return;
  } catch (error) {
    if (!isErrno(error, 'ENOTEMPTY', 'EEXIST')) throw error;
  }
  const old = `${staged}.old`;
  try {
    await rename(dir, old);
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
  await rename(staged, dir);
  await rm(old, { recursive: true, force: true });
}

export async function writeLayout(dir: string, plan: ImagePlan): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  const staged = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(join(staged, 'blobs', 'sha256'), { recursive: true });
    for (const blob of plan.blobs) await writeFileAtomic(blobPath(staged, blob.digest), blob.bytes);
    await writeFileAtomic(join(staged, 'oci-layout'), Buffer.from(OCI_LAYOUT));
    // index.json last: it is what makes the layout an image.
    await writeFileAtomic(join(staged, 'index.json'), plan.index);
    await install(staged, dir);
  } finally {
    await rm(staged, { recursive: true, force: true });
  }
}

/**
 * The manifests index.json lists, or undefined when `dir` holds no readable layout. Any failure means
 * "rebuild": if the directory is truly unusable, writing the new layout reports why.
 */
export async function readManifests(dir: string): Promise<Descriptor[] | undefined> {
  try {
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests?: Descriptor[] };
    return Array.isArray(index.manifests) ? index.manifests : undefined;
  } catch {
    return undefined;
  }
}

// index.json is read back from disk: a digest from it must not become a path outside blobs/.
const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

export async function hasBlob(dir: string, digest: string): Promise<boolean> {
  if (!SHA256_DIGEST.test(digest)) return false;
  try {
    await access(blobPath(dir, digest));
    return true;
  } catch {
    return false;
  }
}
