// The virtio devices of one VM, built on the VMM's main thread: open each disk image, place each
// transport (layout.ts), wire its interrupt to an irqfd, and hand the vCPU threads the slots they
// register on their MMIO bus. start() and stop() bracket the time guest memory may be touched.
import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { IsolaError } from '@isola/errors';
import type { Image } from '@isola/qcow2';
import type { VmFd } from '@isola/sys';
import { hypervisorError } from '../../errors.js';
import { VirtioBlk } from '../virtio-blk/device.js';
import type { DiskOptions } from '../virtio-blk/disk-spec.js';
import { VirtioRng } from '../virtio-rng/device.js';
import { VirtioMmioDevice, type VirtioDeviceModel } from './device.js';
import { IrqfdLine } from './interrupt.js';
import { virtioMmioPlacement } from './layout.js';
import type { GuestRam } from './ram.js';
import type { VirtioMmioDescriptor, VirtioMmioSlot } from './transport.js';

export interface VirtioOptions {
  disks?: readonly DiskOptions[];
  rng?: boolean;
  /** A device entered DEVICE_NEEDS_RESET because of something the guest did. */
  onDeviceError?(device: string, reason: string): void;
  /** A disk request failed in the image (the guest saw IOERR). */
  onIoError?(device: string, error: unknown): void;
}

async function openDisk(disk: DiskOptions): Promise<Image> {
  try {
    // Loaded only for a VM with disks: with @isola/wasm under it, it is a third of a launch's imports.
    const { openImage } = await import('@isola/qcow2');
    return await openImage(disk.path, { readOnly: disk.readOnly ?? false, format: disk.format });
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw hypervisorError('EVM_DISK', `disk ${disk.path}: ${reason}`, { path: disk.path, ...(cause instanceof IsolaError ? { cause: cause.code } : {}) }, cause);
  }
}

export class VirtioDevices {
  readonly devices: readonly VirtioMmioDevice[];
  readonly #lines: readonly IrqfdLine[];
  #stopped: Promise<void> | undefined;

  private constructor(devices: VirtioMmioDevice[], lines: IrqfdLine[]) {
    this.devices = devices;
    this.#lines = lines;
  }

  /** Opens the disks and wires every device; on failure nothing stays open. */
  static async create(vm: VmFd, ram: GuestRam, options: VirtioOptions): Promise<VirtioDevices> {
    const models: VirtioDeviceModel[] = [];
    const lines: IrqfdLine[] = [];
    try {
      const seen = new Set<string>();
      for (const [i, disk] of (options.disks ?? []).entries()) {
        const real = await realpath(disk.path).catch(() => resolve(disk.path));
        // Two writers of one image corrupt it; even a reader beside a writer sees torn metadata.
        if (seen.has(real)) throw hypervisorError('EVM_CONFIG', `disk ${disk.path} is given twice`, { path: disk.path });
        seen.add(real);
        const name = `virtio-blk${i}`;
        const image = await openDisk(disk);
        models.push(new VirtioBlk(image, { id: disk.id, name, onRequestError: (error) => options.onIoError?.(name, error) }));
      }
      if (options.rng) models.push(new VirtioRng());
      const devices = models.map((model, i) => {
        const placement: VirtioMmioDescriptor = virtioMmioPlacement(i);
        const line = new IrqfdLine(vm, placement.irq);
        lines.push(line);
        return new VirtioMmioDevice(model, placement, ram, {
          interrupt: () => line.pulse(),
          onDeviceError: (reason) => options.onDeviceError?.(model.name, reason),
        });
      });
      return new VirtioDevices(devices, lines);
    } catch (error) {
      for (const line of lines) line.close();
      await Promise.allSettled(models.map((m) => m.close?.()));
      throw error;
    }
  }

  /** What the vCPU threads register on their MMIO bus. */
  get slots(): VirtioMmioSlot[] {
    return this.devices.map((d) => d.slot);
  }

  /** What the ACPI tables describe. */
  get descriptors(): VirtioMmioDescriptor[] {
    return this.devices.map(({ slot: { base, size, irq } }) => ({ base, size, irq }));
  }

  start(): void {
    for (const device of this.devices) device.start();
  }

  /** Waits for requests in flight, closes the images (flushing them) and the interrupt lines. */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    // Lines first, while the VM fd surely exists: the machine is ending, nobody waits for an interrupt.
    for (const line of this.#lines) {
      try {
        line.close();
      } catch {
        // The VM is gone already, and its irqfds with it.
      }
    }
    const results = await Promise.allSettled(this.devices.map((d) => d.stop()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw hypervisorError('EVM_DISK', `closing a disk failed: ${(failed.reason as Error).message}`, {}, failed.reason);
  }
}
