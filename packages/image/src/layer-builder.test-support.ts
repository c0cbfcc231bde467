// Test-only helpers: layers built with tar-stream (an independent tar writer, so the reader is not
// tested against itself), temp directories, and a tree snapshot to compare rootfs directories.
// Excluded from the build (tsconfig.json); tar-stream is a devDependency.
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack, type Header } from 'tar-stream';

export type FixtureEntry = Partial<Header> & { name: string; content?: string | Buffer };

const EPOCH = new Date('2020-01-02T03:04:05Z');

/** An uncompressed tar of `entries`, in order; files default to 0644 root:root, dirs to 0755. */
export async function tarOf(entries: readonly FixtureEntry[]): Promise<Buffer> {
  const archive = pack();
  for (const { content, ...header } of entries) {
    const type = header.type ?? (header.name.endsWith('/') ? 'directory' : 'file');
    const defaults = { mode: type === 'directory' ? 0o755 : 0o644, uid: 0, gid: 0, mtime: EPOCH, type };
    // A file without a buffer would wait for its body to be streamed in: give it an empty one.
    if (content !== undefined || type === 'file') archive.entry({ ...defaults, ...header }, content ?? '');
    else archive.entry({ ...defaults, ...header });
  }
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function gzip(bytes: Buffer): Buffer {
  return gzipSync(bytes);
}

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export async function* streamOf(bytes: Buffer, chunkSize = 1000): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += chunkSize) yield bytes.subarray(at, at + chunkSize);
}

/** A fresh temp directory, removed by the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'isola-image-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface TreeNode {
  type: 'file' | 'directory' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';
  mode: number;
  uid: number;
  gid: number;
  /** File content digest, symlink target, or "major:minor". */
  content?: string;
  /** Inode number shared by hard links, normalized to the first path that had it. */
  linkGroup?: string;
}

/** Every path under `root` (relative, sorted) with what lstat says about it. */
export async function snapshot(root: string): Promise<Record<string, TreeNode>> {
  const tree: Record<string, TreeNode> = {};
  const inodes = new Map<number, string>();
  async function walk(rel: string): Promise<void> {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const host = join(root, path);
      const stat = await lstat(host);
      const node: TreeNode = { type: 'file', mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid };
      if (stat.isDirectory()) node.type = 'directory';
      else if (stat.isSymbolicLink()) {
        node.type = 'symlink';
        node.content = await readlink(host);
      } else if (stat.isCharacterDevice() || stat.isBlockDevice()) {
        node.type = stat.isCharacterDevice() ? 'char' : 'block';
        node.content = `${Math.floor(stat.rdev / 256) & 0xfff}:${(stat.rdev & 0xff) | ((stat.rdev >> 12) & 0xfff00)}`;
      } else if (stat.isFIFO()) node.type = 'fifo';
      else if (stat.isSocket()) node.type = 'socket';
      else node.content = sha256(await readFile(host));
      if (!stat.isDirectory() && stat.nlink > 1) {
        if (!inodes.has(stat.ino)) inodes.set(stat.ino, path);
        node.linkGroup = inodes.get(stat.ino);
      }
      tree[path] = node;
      if (stat.isDirectory()) await walk(path);
    }
  }
  await walk('');
  return tree;
}
