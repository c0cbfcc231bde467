import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createImage, openImage } from '@isola/qcow2';
import { itNeeds } from '../../../../../test/support/requirements.js';
import { VirtioMmioDevice } from '../virtio/device.js';
import { le } from '../virtio/ram.js';
import { Reg, Status } from '../virtio/spec.js';
import { MockDriver, RegisterPort, TEST_LAYOUT, VERSION_1, type GuestBuffer } from '../virtio/testing.js';
import { MmioTransport } from '../virtio/transport.js';
import { BlkFeature, VirtioBlk } from './device.js';
import { BlkStatus, BlkType } from './request.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'isola-virtio-blk-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const pattern = (seed: number, length: number) => Uint8Array.from({ length }, (_, i) => (seed + i * 7) & 0xff);

/** A guest driver's view of one virtio-blk device: submit a request, wait for its status. */
async function attach(path: string, readOnly = false) {
  const image = await openImage(path, { readOnly });
  const driver = new MockDriver();
  const device = new VirtioMmioDevice(new VirtioBlk(image, { id: 'disk-under-test' }), { base: 0xd000_0000, size: 0x1000, irq: 5 }, driver.ram, { interrupt: () => {} });
  const port = new RegisterPort(new MmioTransport(device.slot));
  device.start();
  port.write(Reg.DEVICE_FEATURES_SEL, 0);
  const offered = BigInt(port.read(Reg.DEVICE_FEATURES));
  expect(port.initialize(VERSION_1 | offered, [TEST_LAYOUT]) & Status.DRIVER_OK).toBeTruthy();

  async function submit(type: number, sector: number, out: GuestBuffer[] = [], inLength = 0) {
    const h = new Uint8Array(16);
    le.setU32(h, 0, type);
    le.setU64(h, 8, sector);
    const data = inLength ? driver.alloc(inLength) : 0;
    const status = driver.alloc(1, Uint8Array.of(0xee));
    const head = driver.chain([{ address: driver.alloc(16, h), length: 16 }, ...out, ...(inLength ? [{ address: data, length: inLength, write: true }] : []), { address: status, length: 1, write: true }]);
    driver.offer(head);
    port.write(Reg.QUEUE_NOTIFY, 0);
    for (let i = 0; i < 2000; i++) {
      const used = driver.takeUsed();
      if (used.length) {
        expect(used).toEqual([{ id: head, length: inLength + 1 - (driver.bytes(status, 1)[0] === BlkStatus.OK ? 0 : inLength) }]);
        return { status: driver.bytes(status, 1)[0], data: driver.bytes(data, inLength) };
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    throw new Error('the request did not complete');
  }
  const write = (sector: number, bytes: Uint8Array) => submit(BlkType.OUT, sector, [{ address: driver.alloc(bytes.length, bytes), length: bytes.length }]);
  const read = (sector: number, length: number) => submit(BlkType.IN, sector, [], length);
  const ranges = (type: number, list: [number, number, number][]) => {
    const bytes = new Uint8Array(16 * list.length);
    list.forEach(([s, n, f], i) => {
      le.setU64(bytes, i * 16, s);
      le.setU32(bytes, i * 16 + 8, n);
      le.setU32(bytes, i * 16 + 12, f);
    });
    return submit(type, 0, [{ address: driver.alloc(bytes.length, bytes), length: bytes.length }]);
  };
  return { port, device, image, driver, submit, write, read, ranges, offered };
}

const qemuImg = itNeeds({ tools: ['qemu-img'] });

describe('virtio-blk on a disk image', () => {
  it('describes the disk in its config space and features', async () => {
    const path = join(dir, 'disk.qcow2');
    await (await createImage(path, { size: 8 << 20, clusterSize: 65536 })).close();
    const disk = await attach(path);
    try {
      expect(disk.port.read(Reg.DEVICE_ID)).toBe(2);
      expect(disk.port.read(Reg.CONFIG) + disk.port.read(Reg.CONFIG + 4) * 2 ** 32).toBe((8 << 20) / 512);
      expect(disk.port.read(Reg.CONFIG + 8)).toBe(1 << 20); // size_max
      expect(disk.port.read(Reg.CONFIG + 12)).toBe(254); // seg_max
      expect(disk.port.read(Reg.CONFIG + 20)).toBe(512); // blk_size
      expect(disk.port.read(Reg.CONFIG + 44)).toBe(128); // discard alignment: a 64 KiB cluster
      const bits = [BlkFeature.SIZE_MAX, BlkFeature.SEG_MAX, BlkFeature.BLK_SIZE, BlkFeature.FLUSH, BlkFeature.DISCARD, BlkFeature.WRITE_ZEROES];
      expect(disk.offered).toBe(bits.reduce((f, b) => f | (1n << BigInt(b)), 0n) | (1n << 28n));
    } finally {
      await disk.device.stop();
    }
  });

  for (const format of ['qcow2', 'raw'] as const) {
    it(`reads, writes, flushes, discards and zeroes a ${format} image; the image API reads the result back`, async () => {
      const path = join(dir, `disk.${format}`);
      if (format === 'qcow2') await (await createImage(path, { size: 4 << 20 })).close();
      else writeFileSync(path, new Uint8Array(4 << 20));
      const disk = await attach(path);
      try {
        expect((await disk.write(1, pattern(1, 1024))).status).toBe(BlkStatus.OK);
        expect((await disk.write(256, pattern(2, 65536))).status).toBe(BlkStatus.OK);
        expect(await disk.read(1, 1024)).toEqual({ status: BlkStatus.OK, data: pattern(1, 1024) });
        expect((await disk.submit(BlkType.FLUSH, 0)).status).toBe(BlkStatus.OK);
        const id = await disk.submit(BlkType.GET_ID, 0, [], 20);
        expect(Buffer.from(id.data).toString()).toBe('disk-under-test\0\0\0\0\0');
        expect((await disk.ranges(BlkType.WRITE_ZEROES, [[2, 1, 0]])).status).toBe(BlkStatus.OK);
        expect((await disk.ranges(BlkType.DISCARD, [[256, 64, 0]])).status).toBe(BlkStatus.OK);
        expect((await disk.read(8191, 1024)).status).toBe(BlkStatus.IOERR);
        expect((await disk.submit(42, 0)).status).toBe(BlkStatus.UNSUPP);
      } finally {
        await disk.device.stop();
      }
      const image = await openImage(path, { readOnly: true });
      try {
        const back = new Uint8Array(1024);
        await image.read(back, 512);
        expect(back.subarray(0, 512)).toEqual(pattern(1, 512));
        expect(back.subarray(512)).toEqual(new Uint8Array(512));
        // Discard promises nothing about the content; the written range next to it is intact.
        const kept = new Uint8Array(512);
        await image.read(kept, 320 * 512);
        expect(kept).toEqual(pattern(2, 65536).subarray(64 * 512, 65 * 512));
      } finally {
        await image.close();
      }
    });
  }

  qemuImg('leaves a qcow2 image that qemu-img check finds clean and qemu-io reads back', async () => {
    const path = join(dir, 'disk.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', path, '16M']);
    const disk = await attach(path);
    try {
      for (let sector = 0; sector < 64; sector += 8) expect((await disk.write(sector * 37, new Uint8Array(4096).fill(0x5a))).status).toBe(BlkStatus.OK);
      expect((await disk.submit(BlkType.FLUSH, 0)).status).toBe(BlkStatus.OK);
    } finally {
      await disk.device.stop();
    }
    execFileSync('qemu-img', ['check', path]);
    const io = execFileSync('qemu-io', ['-f', 'qcow2', '-c', `read -P 0x5a ${37 * 8 * 512} 4096`, path]).toString();
    expect(io).toContain('read 4096/4096 bytes');
  });

  it('serves a full queue of requests made available at once, each with its own used entry', async () => {
    const path = join(dir, 'disk.qcow2');
    await (await createImage(path, { size: 4 << 20 })).close();
    const disk = await attach(path);
    try {
      for (let i = 0; i < 4; i++) expect((await disk.write(i * 8, pattern(i, 4096))).status).toBe(BlkStatus.OK);
      const d = disk.driver;
      const reads = Array.from({ length: 4 }, (_, i) => {
        const h = new Uint8Array(16);
        le.setU32(h, 0, BlkType.IN);
        le.setU64(h, 8, i * 8);
        const data = d.alloc(4096);
        const status = d.alloc(1, Uint8Array.of(0xee));
        const head = d.chain([{ address: d.alloc(16, h), length: 16 }, { address: data, length: 4096, write: true }, { address: status, length: 1, write: true }]);
        return { head, data, status };
      });
      for (const r of reads) d.offer(r.head);
      disk.port.write(Reg.QUEUE_NOTIFY, 0);
      const used: { id: number; length: number }[] = [];
      for (let i = 0; i < 2000 && used.length < 4; i++) {
        used.push(...d.takeUsed());
        await new Promise((r) => setTimeout(r, 1));
      }
      expect(used.map((u) => u.id).sort()).toEqual(reads.map((r) => r.head).sort());
      expect(used.every((u) => u.length === 4097)).toBe(true);
      reads.forEach((r, i) => {
        expect(d.bytes(r.status, 1)[0]).toBe(BlkStatus.OK);
        expect(d.bytes(r.data, 4096)).toEqual(pattern(i, 4096));
      });
    } finally {
      await disk.device.stop();
    }
  });

  it('offers RO for a read-only image and answers writes with IOERR, leaving the image alone', async () => {
    const path = join(dir, 'ro.raw');
    writeFileSync(path, pattern(9, 1 << 20));
    const disk = await attach(path, true);
    try {
      expect(disk.offered & (1n << BigInt(BlkFeature.RO))).not.toBe(0n);
      expect(disk.offered & (1n << BigInt(BlkFeature.DISCARD))).toBe(0n);
      expect((await disk.write(0, new Uint8Array(512))).status).toBe(BlkStatus.IOERR);
      expect((await disk.ranges(BlkType.WRITE_ZEROES, [[0, 1, 0]])).status).toBe(BlkStatus.UNSUPP);
      expect(await disk.read(0, 512)).toEqual({ status: BlkStatus.OK, data: pattern(9, 512) });
    } finally {
      await disk.device.stop();
    }
  });

  it('puts the device in NEEDS_RESET for a request with a short header', async () => {
    const path = join(dir, 'disk.raw');
    writeFileSync(path, new Uint8Array(1 << 20));
    const disk = await attach(path);
    try {
      disk.driver.offer(disk.driver.chain([{ address: disk.driver.alloc(8), length: 8 }, { address: disk.driver.alloc(1), length: 1, write: true }]));
      disk.port.write(Reg.QUEUE_NOTIFY, 0);
      for (let i = 0; i < 1000 && !disk.device.lastError; i++) await new Promise((r) => setTimeout(r, 1));
    } finally {
      await disk.device.stop();
    }
    expect(disk.device.lastError).toBe('virtio-blk: request header is 8 bytes, not 16');
    expect(disk.port.read(Reg.STATUS) & Status.DEVICE_NEEDS_RESET).toBeTruthy();
    expect(disk.driver.takeUsed()).toEqual([]);
  });
});
