// virtio-blk (device ID 2) on a disk image: its features and config space (capacity, size_max, seg_max,
// blk_size, discard and write-zeroes limits), and serving one request chain: parse (request.ts),
// execute (executor.ts), then the status byte. A read-only disk offers VIRTIO_BLK_F_RO and answers
// writes with IOERR.
import { basename } from 'node:path';
import type { Image } from '@isola/qcow2';
import { type DescriptorChain } from '../virtio/chain.js';
import type { Served, VirtioDeviceModel } from '../virtio/device.js';
import { le, type GuestRam } from '../virtio/ram.js';
import { DeviceId, features } from '../virtio/spec.js';
import { execute } from './executor.js';
import { ID_BYTES, parseRequest, SECTOR_SIZE, type DiskShape } from './request.js';

export const BlkFeature = {
  SIZE_MAX: 1,
  SEG_MAX: 2,
  RO: 5,
  BLK_SIZE: 6,
  FLUSH: 9,
  DISCARD: 13,
  WRITE_ZEROES: 14,
} as const;

export const QUEUE_SIZE = 256;
/** Largest single guest buffer we advertise (size_max); Linux sizes its segments to it. */
export const SIZE_MAX = 1 << 20;
/** Ranges per discard or write-zeroes request. */
export const MAX_RANGES = 16;
/** 5.2.4: struct virtio_blk_config up to write_zeroes_may_unmap and its padding. */
export const CONFIG_SIZE = 60;

export interface BlkConfigInput {
  capacity: number;
  /** Discard works on whole clusters of a qcow2 image: tell the guest their size, in bytes. */
  discardGranularity: number;
}

/** The config space, little-endian as the guest reads it. */
export function blkConfig({ capacity, discardGranularity }: BlkConfigInput): Uint8Array {
  const c = new Uint8Array(CONFIG_SIZE);
  le.setU64(c, 0, Math.floor(capacity / SECTOR_SIZE));
  le.setU32(c, 8, SIZE_MAX);
  // Two descriptors of every chain carry the header and the status byte (QEMU's seg_max rule).
  le.setU32(c, 12, QUEUE_SIZE - 2);
  le.setU32(c, 20, SECTOR_SIZE);
  le.setU32(c, 36, 0xffff_ffff); // max_discard_sectors
  le.setU32(c, 40, MAX_RANGES); // max_discard_seg
  le.setU32(c, 44, Math.max(1, discardGranularity / SECTOR_SIZE)); // discard_sector_alignment
  le.setU32(c, 48, 0xffff_ffff); // max_write_zeroes_sectors
  le.setU32(c, 52, MAX_RANGES); // max_write_zeroes_seg
  c[56] = 1; // write_zeroes_may_unmap
  return c;
}

export interface BlkOptions {
  /** Reported by GET_ID (at most 20 bytes); defaults to the image's file name. */
  id?: string;
  /** Named in virtio-blk errors: "virtio-blk0". */
  name?: string;
  onRequestError?(error: unknown): void;
}

export class VirtioBlk implements VirtioDeviceModel {
  readonly name: string;
  readonly deviceId = DeviceId.BLOCK;
  readonly features: bigint;
  readonly queueMax = [QUEUE_SIZE];
  readonly config: Uint8Array;
  readonly image: Image;
  readonly #shape: DiskShape;
  readonly #id: Uint8Array;
  readonly #onError: ((error: unknown) => void) | undefined;

  constructor(image: Image, options: BlkOptions = {}) {
    this.image = image;
    this.name = options.name ?? 'virtio-blk';
    const info = image.info();
    const writable = !image.readOnly;
    this.features =
      features(BlkFeature.SIZE_MAX, BlkFeature.SEG_MAX, BlkFeature.BLK_SIZE, BlkFeature.FLUSH) |
      (writable ? features(BlkFeature.DISCARD, BlkFeature.WRITE_ZEROES) : features(BlkFeature.RO));
    this.config = blkConfig({ capacity: image.size, discardGranularity: info.format === 'qcow2' ? info.clusterSize : SECTOR_SIZE });
    this.#shape = { capacity: Math.floor(image.size / SECTOR_SIZE) * SECTOR_SIZE, readOnly: image.readOnly, discard: writable, writeZeroes: writable, maxRanges: MAX_RANGES };
    this.#id = new TextEncoder().encode(options.id ?? basename(image.path)).subarray(0, ID_BYTES);
    this.#onError = options.onRequestError;
  }

  async serve(_queue: number, chain: DescriptorChain, ram: GuestRam): Promise<Served> {
    const parsed = parseRequest(ram, chain, this.#shape);
    if (!parsed.ok) return { error: `${this.name}: ${parsed.reason}` };
    const { status, written } = await execute(parsed.request, this.image, ram, this.#id, this.#onError);
    ram.view(parsed.status.address, 1)![0] = status;
    return written + 1;
  }

  close(): Promise<void> {
    return this.image.close();
  }
}
