// unpackLayer: applies one OCI layer blob to a rootfs directory, all or nothing where the filesystem
// allows it.
//
// - A target that does not exist yet is built in a hidden sibling directory and renamed into place
//   only after the last entry is written and both digests match: a bad, truncated or malicious blob
//   leaves nothing under the final name.
// - A target that exists (layer N on top of layers 1..N-1) cannot be staged without copying it, so
//   the blob is read twice: a first pass checks everything that can be checked without writing
//   (digests, truncation, every entry name, whiteout and hard link), and only then the second pass
//   writes. What can still fail half-way is the filesystem itself (ENOSPC, EIO, a hook). Callers who
//   need atomic layering should unpack each layer into its own directory (overlayfs style).
// - `unpackLayers` makes a new rootfs from a whole stack: every layer goes onto the hidden staging
//   directory, read once, and the result is renamed into place after the last one (what
//   `umoci raw unpack` makes, all or nothing).
import { randomBytes } from 'node:crypto';
import { createWriteStream, statSync } from 'node:fs';
import { lstat, mkdir, realpath, rename, rm, stat as fsStat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { LayerError, entryError, errnoCode } from './errors.js';
import { WORKER_BLOB_MIN, type BlobOptions, type BlobSource } from './layer/blob.js';
import { startBlobWorker } from './layer/blob-worker.js';
import type { LayerEntry } from './layer/entry.js';
import { readLayer, type LayerReadResult } from './layer/reader.js';
import { RootResolver } from './rootfs/resolve.js';
import { RootfsWriter, type UnpackWarning, type WriterOptions } from './rootfs/writer.js';

export interface UnpackOptions extends BlobOptions, WriterOptions {}

export interface UnpackSummary extends LayerReadResult {
  /** Bytes of regular-file data written. */
  fileBytes: number;
  /** Things not reproduced exactly: devices skipped rootless, xattrs without a setter. */
  warnings: UnpackWarning[];
  /** `staged` when the target was created and renamed into place, `layered` when applied onto it. */
  mode: 'staged' | 'layered';
}

function siblingName(target: string, purpose: string): string {
  return join(dirname(target), `.${basename(target)}.${purpose}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** A file's size, 0 when it cannot be read (openBlob reports that, naming the layer). */
function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Whether `path` is an existing directory (following a symlink: /var/lib may be one). */
async function exists(path: string): Promise<boolean> {
  try {
    const stat = await fsStat(path);
    if (!stat.isDirectory()) throw new LayerError('ELAYER_APPLY', `unpack target ${path} exists and is not a directory`);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}

async function writeAll(source: BlobSource, root: string, options: UnpackOptions): Promise<Omit<UnpackSummary, 'mode'>> {
  const writer = new RootfsWriter(root, {
    rootless: options.rootless ?? process.getuid?.() !== 0,
    specialFiles: options.specialFiles,
    whiteouts: options.whiteouts,
  });
  let result: LayerReadResult;
  try {
    result = await readLayer(source, options, (entry, body) => writer.apply(entry, body));
  } catch (error) {
    // Files may still be on their way to disk in the file workers: let them land before the caller
    // removes the staging directory.
    await writer.abandon();
    throw error;
  }
  await writer.finish();
  return { ...result, fileBytes: writer.fileBytes, warnings: writer.warnings };
}

async function unpackStaged(layers: readonly LayerSource[], target: string, options: WriterOptions): Promise<UnpackSummary[]> {
  await mkdir(dirname(target), { recursive: true });
  const staging = siblingName(target, 'unpack');
  await mkdir(staging, { mode: 0o755 });
  try {
    const summaries: UnpackSummary[] = [];
    // Nobody else sees the staging directory: each layer is applied in one pass, and any failure
    // removes the whole stack.
    for (const layer of layers) summaries.push({ ...(await writeAll(layer.source, staging, { ...options, ...layer.options })), mode: 'staged' });
    try {
      await rename(staging, target);
    } catch (error) {
      throw new LayerError('ELAYER_APPLY', `move unpacked layer into place at ${target}: ${errnoCode(error) ?? String(error)}`, { cause: error });
    }
    return summaries;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * The checks of the first pass that need the lower layers: a hard link must point at something an
 * earlier entry of this layer created, or that a lower layer left, and not at a directory.
 */
class HardlinkPreflight {
  private readonly seen = new Map<string, LayerEntry['kind']>();
  private readonly resolver: RootResolver;

  constructor(root: string) {
    this.resolver = new RootResolver(root);
  }

  async visit(entry: LayerEntry): Promise<void> {
    if (entry.kind === 'hardlink') {
      const inLayer = this.seen.get(entry.target);
      if (inLayer === 'directory') throw entryError('ELAYER_LINK', entry.name, `hard link target "${entry.target}" is a directory`);
      if (inLayer === undefined) {
        const stat = await lstatOrUndefined(this.resolver.host(await this.resolver.resolveEntry(entry.target)));
        if (stat === undefined) throw entryError('ELAYER_LINK', entry.name, `hard link target "${entry.target}" is not in this layer or a lower one`);
        if (stat.isDirectory()) throw entryError('ELAYER_LINK', entry.name, `hard link target "${entry.target}" is a directory`);
      }
    }
    if (entry.kind !== 'whiteout' && entry.kind !== 'opaque' && entry.kind !== 'ignored') this.seen.set(entry.path, entry.kind);
  }
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return undefined;
    throw error;
  }
}

async function unpackLayered(source: BlobSource, target: string, options: UnpackOptions): Promise<UnpackSummary> {
  // A stream can be read only once: keep it next to the target (same filesystem, no /tmp quota).
  let spool: string | undefined;
  try {
    let blob = source;
    if (typeof source !== 'string') {
      spool = siblingName(target, 'blob');
      await pipeline(source, createWriteStream(spool, { flags: 'wx', mode: 0o600 }));
      blob = spool;
    }
    const preflight = new HardlinkPreflight(target);
    const checked = await readLayer(blob, options, (entry) => preflight.visit(entry));
    // The second pass must read the blob the first pass approved, even if the caller expected nothing.
    const summary = await writeAll(blob, target, { ...options, expectedDigest: checked.digest, expectedDiffId: checked.diffId });
    return { ...summary, mode: 'layered' };
  } finally {
    if (spool !== undefined) await rm(spool, { force: true });
  }
}

/**
 * Applies the layer blob `source` (a path or a byte stream) to the rootfs at `target`: creates it
 * when missing, or layers onto it. Throws a LayerError (an IsolaError with an ELAYER_* code) naming
 * the offending entry; see the file comment for what is left behind on failure.
 */
export async function unpackLayer(source: BlobSource, target: string, options: UnpackOptions = {}): Promise<UnpackSummary> {
  const root = resolve(target);
  // The rootfs is resolved once, here; below it, nothing is followed out (rootfs/resolve.ts).
  if (await exists(root)) return unpackLayered(source, await realpath(root), options);
  return (await unpackStaged([{ source, options }], root, options))[0];
}

/** One layer of a stack: its blob and what to expect of it. */
export interface LayerSource {
  source: BlobSource;
  options?: BlobOptions;
}

/**
 * Makes the rootfs `target`, which must not exist, from `layers` (bottom first): all of them or,
 * on any error, nothing. One summary per layer.
 */
export async function unpackLayers(layers: readonly LayerSource[], target: string, options: WriterOptions = {}): Promise<UnpackSummary[]> {
  const root = resolve(target);
  if (await exists(root)) throw new LayerError('ELAYER_APPLY', `unpack target ${root} already exists`);
  // A big blob further up the stack will be read on the blob worker: start it during the first layers.
  if (layers.some((layer) => typeof layer.source === 'string' && sizeOf(layer.source) >= WORKER_BLOB_MIN)) startBlobWorker();
  return unpackStaged(layers, root, options);
}
