// Unpacked layers, once per chain ID: `layers/sha256/<chain hex>/` holds only what that layer
// changed, with its whiteouts written the way overlayfs reads them (0:0 character devices, the
// `trusted.overlay.opaque` xattr). A container's rootfs is these directories stacked as overlay
// lowerdirs (rootfs/mount.ts); an image sharing the first N layers with another shares their
// directories. Decided over "a full copy per chain ID" because it costs each layer's own size once,
// not the whole stack per layer, and nothing is copied at container start.
//
// Needs root (whiteout devices, trusted.* xattrs). Without it no layer directory is made, and a
// container rootfs is unpacked from the blobs into its own directory instead.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageError, LayerError, errnoCode } from '../errors.js';
import type { SpecialFileOps } from '../rootfs/special-files.js';
import { unpackLayer } from '../unpack.js';
import type { BlobStore } from './blobs.js';
import { chainIds, hexOf } from './digest.js';
import { exists } from './files.js';
import type { Descriptor } from './oci.js';

export interface LayerStack {
  /** Bottom first. */
  chainIds: string[];
  /** Directories to use as lowerdirs, bottom first. */
  dirs: string[];
}

export class LayerStore {
  readonly dir: string;

  constructor(
    root: string,
    private readonly blobs: BlobStore,
    // The writer's defaults: mknod(2) and lsetxattr(2) through @isola/sys (setfattr(1) cost a process per opaque directory).
    private readonly special: Partial<SpecialFileOps> = {},
  ) {
    this.dir = join(root, 'layers', 'sha256');
  }

  path(chainId: string): string {
    return join(this.dir, hexOf(chainId));
  }

  /** Every layer of an image unpacked (the missing ones now, bottom first). */
  async ensure(layers: readonly Descriptor[], diffIds: readonly string[], what: string): Promise<LayerStack> {
    if (layers.length !== diffIds.length) {
      throw new LayerError('ELAYER_DIGEST', `${what}: the manifest has ${layers.length} layers but the config lists ${diffIds.length} diff_ids`);
    }
    const ids = chainIds(diffIds);
    const missing: number[] = [];
    for (let i = 0; i < layers.length; i++) {
      if (await exists(this.path(ids[i]))) continue;
      if (!(await this.blobs.has(layers[i].digest))) {
        throw new ImageError('EIMAGE_MISSING_BLOB', `${what}: layer ${i + 1} (${layers[i].digest}) is not in the store`, { details: { digest: layers[i].digest } });
      }
      missing.push(i);
    }
    // Each layer has a directory of its own, so layers unpack independently: two at a time, which
    // overlaps one layer's decompression with another's file creation. Every unpack runs to its
    // end (a finished layer is kept); the first failure in layer order is reported.
    const failures = new Map<number, unknown>();
    const next = missing.values();
    const lane = async () => {
      for (let step = next.next(); !step.done; step = next.next()) {
        try {
          await this.unpack(layers[step.value], diffIds[step.value], this.path(ids[step.value]));
        } catch (error) {
          failures.set(step.value, error);
        }
      }
    };
    await Promise.all([lane(), lane()]);
    const first = Math.min(...failures.keys());
    if (failures.size > 0) throw failures.get(first);
    return { chainIds: ids, dirs: ids.map((id) => this.path(id)) };
  }

  private async unpack(layer: Descriptor, diffId: string, target: string): Promise<void> {
    try {
      await unpackLayer(this.blobs.path(layer.digest), target, {
        mediaType: layer.mediaType,
        expectedDigest: layer.digest,
        expectedDiffId: diffId,
        whiteouts: 'overlay',
        rootless: false,
        specialFiles: this.special,
      });
    } catch (error) {
      // Another process unpacked the same chain meanwhile: its rename won, and its result is ours.
      if (error instanceof LayerError && error.code === 'ELAYER_APPLY' && (await exists(target))) return;
      throw error;
    }
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((name) => /^[0-9a-f]{64}$/.test(name)).map((hex) => `sha256:${hex}`);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return [];
      throw error;
    }
  }

  async delete(chainId: string): Promise<void> {
    await rm(this.path(chainId), { recursive: true, force: true });
  }

  /** Staging directories of unpacks whose process is gone (`.<hex>.unpack-<pid>-<rand>`). */
  async staleStaging(isAlive: (pid: number) => boolean): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    return names
      .map((name) => ({ name, pid: /^\..*\.(?:unpack|blob)-(\d+)-[0-9a-f]+$/.exec(name)?.[1] }))
      .filter((e) => e.pid !== undefined && !isAlive(Number(e.pid)))
      .map((e) => join(this.dir, e.name));
  }
}
