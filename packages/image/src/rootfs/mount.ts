// A container's root filesystem from an image: the image's layers (one directory per chain ID, see
// store/layers.ts) mounted read-only as overlayfs lowerdirs, with a per-container upper and work
// directory taking the writes. Where overlay cannot be used (not root, or the kernel refuses the
// mount) the layers are unpacked into a private copy instead. Either way the container's layers
// are held by a persistent lease until `removeRootfs`, so `isola image prune` cannot delete them.
//
//   <store>/containers/<id>/rootfs.json        what was made (overlay or copy), for removeRootfs
//   <store>/containers/<id>/{upper,work,merged} overlay
//   <store>/containers/<id>/rootfs              copy
//
// Mounting goes through a MountOps interface: @isola/sys by default, a recording fake in tests.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { MountArgs } from '@isola/sys';
import { ImageError, errnoCode } from '../errors.js';
import { writeFileAtomic, exists } from '../store/files.js';
import type { ImageStore } from '../store/store.js';
import { unpackLayers } from '../unpack.js';

export interface MountOps {
  mount(args: MountArgs): void;
  umount2(target: string, flags?: number): void;
}

export interface RootfsOptions {
  /** `auto` (default): overlay when root and the mount works, else a copy. */
  mode?: 'auto' | 'overlay' | 'copy';
  ops?: MountOps;
}

export interface ContainerRootfs {
  id: string;
  kind: 'overlay' | 'copy';
  /** The directory to use as the container's /. */
  path: string;
  /** Everything of this rootfs lives under here. */
  dir: string;
  image: string;
  /** Overlay only: lowerdirs, top layer first, as passed to mount. */
  lowerdirs?: string[];
}

// mount(2) copies at most one page of options: longer lowerdir lists fail with EINVAL. Layer paths
// are ~90 bytes, so this allows ~40 layers; beyond that the copy is used.
const MOUNT_DATA_MAX = 4095;

async function sysMountOps(): Promise<MountOps> {
  const sys = await import('@isola/sys');
  return { mount: sys.mount, umount2: sys.umount2 };
}

export function containerDir(store: ImageStore, id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(id)) throw new ImageError('EIMAGE_REFERENCE', `container ID "${id}" must be letters, digits, _ . - (at most 128)`);
  return join(store.dir, 'containers', id);
}

/** The overlay mount options for `lowerdirs` (top first); undefined when a path cannot be expressed. */
export function overlayData(lowerdirs: string[], upper: string, work: string): string | undefined {
  const all = [...lowerdirs, upper, work];
  // ':' separates lowerdirs and ',' options; overlayfs has escapes for them, but no store path needs them.
  if (all.some((p) => /[:,\\]/.test(p))) return undefined;
  const data = `lowerdir=${lowerdirs.join(':')},upperdir=${upper},workdir=${work}`;
  return data.length <= MOUNT_DATA_MAX ? data : undefined;
}

async function copyRootfs(store: ImageStore, image: string, dir: string, id: string): Promise<ContainerRootfs> {
  const { record } = await store.resolve(image);
  const path = join(dir, 'rootfs');
  const rootless = process.getuid?.() !== 0;
  // All layers onto one staging directory, each read once; an empty image gives an empty rootfs.
  const layers = record.layers.map((layer, i) => ({
    source: store.blobs.path(layer.digest),
    options: { mediaType: layer.mediaType, expectedDigest: layer.digest, expectedDiffId: record.diffIds[i] },
  }));
  await unpackLayers(layers, path, { rootless });
  return { id, kind: 'copy', path, dir, image: record.digest };
}

/**
 * Makes the rootfs of container `id` from `image` (name, tag or ID). Throws EIMAGE_MOUNT with the
 * mount's errno when overlay was asked for and failed; `auto` falls back to a copy then.
 */
export async function createRootfs(store: ImageStore, image: string, id: string, options: RootfsOptions = {}): Promise<ContainerRootfs> {
  const dir = containerDir(store, id);
  if (await exists(dir)) throw new ImageError('EIMAGE_IN_USE', `container rootfs ${id} already exists at ${dir}`);
  const mode = options.mode ?? 'auto';
  const { record } = await store.resolve(image);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const lease = await store.lease({ name: `container-${id}`, persistent: true });
  await lease.addBlobs(record.digest, record.config, ...record.layers.map((l) => l.digest));
  try {
    let rootfs: ContainerRootfs | undefined;
    if (mode === 'overlay' || (mode === 'auto' && process.getuid?.() === 0)) {
      rootfs = await overlayRootfs(store, record.digest, dir, id, lease, options, mode === 'overlay');
    }
    rootfs ??= await copyRootfs(store, record.digest, dir, id);
    await writeFileAtomic(join(dir, 'rootfs.json'), JSON.stringify(rootfs));
    return rootfs;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    await lease.release();
    throw error;
  }
}

async function overlayRootfs(
  store: ImageStore,
  image: string,
  dir: string,
  id: string,
  lease: Awaited<ReturnType<ImageStore['lease']>>,
  options: RootfsOptions,
  required: boolean,
): Promise<ContainerRootfs | undefined> {
  const { record } = await store.resolve(image);
  const stack = await store.layerStack(record, lease);
  const upper = join(dir, 'upper');
  const work = join(dir, 'work');
  const merged = join(dir, 'merged');
  for (const d of [upper, work, merged]) await mkdir(d, { mode: 0o755 });
  // overlayfs needs at least one lowerdir: an image without layers gets an empty one.
  const lowerdirs = stack.dirs.length > 0 ? [...stack.dirs].reverse() : [await mkdir(join(dir, 'empty')).then(() => join(dir, 'empty'))];
  const data = overlayData(lowerdirs, upper, work);
  const fail = (why: string, cause?: unknown) => new ImageError('EIMAGE_MOUNT', `mount the overlay rootfs of container ${id} at ${merged}: ${why}`, { cause });
  if (data === undefined) {
    if (required) throw fail(`${lowerdirs.length} layers do not fit in one mount call`);
    await rm(dir, { recursive: true, force: true }).then(() => mkdir(dir, { mode: 0o700 }));
    return undefined;
  }
  const ops = options.ops ?? (await sysMountOps());
  try {
    ops.mount({ source: 'overlay', target: merged, fstype: 'overlay', flags: 0, data });
  } catch (error) {
    if (required) throw fail('the kernel refused it', error);
    for (const d of [upper, work, merged]) await rm(d, { recursive: true, force: true });
    return undefined;
  }
  return { id, kind: 'overlay', path: merged, dir, image: record.digest, lowerdirs };
}

/** Unmounts (overlay) and deletes the rootfs of container `id`, and releases its layers. */
export async function removeRootfs(store: ImageStore, id: string, options: Pick<RootfsOptions, 'ops'> = {}): Promise<void> {
  const dir = containerDir(store, id);
  let rootfs: ContainerRootfs | undefined;
  try {
    rootfs = JSON.parse(await readFile(join(dir, 'rootfs.json'), 'utf8')) as ContainerRootfs;
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
  if (rootfs?.kind === 'overlay') {
    const ops = options.ops ?? (await sysMountOps());
    try {
      ops.umount2(rootfs.path, 0);
    } catch (error) {
      // EINVAL: not mounted (a previous remove got this far, or the host rebooted).
      if ((error as { errno?: string; code?: string }).code !== 'EINVAL' && !/EINVAL/.test(String((error as Error).message))) {
        throw new ImageError('EIMAGE_MOUNT', `unmount the rootfs of container ${id} at ${rootfs.path}`, { cause: error });
      }
    }
  }
  // Never rm -r through a mount that is still there: it would delete the image's layers' view.
  await rm(dir, { recursive: true, force: true });
  await store.leases.remove(`container-${id}`);
}
