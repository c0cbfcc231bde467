// The guest kit's virtio variant under the real /dev/kvm: it finds the transports, drives virtio-blk on a
// qcow2 image and a read-only raw disk (polling, and once through a real interrupt: irqfd, I/O APIC,
// LAPIC, IDT), reads virtio-rng, and feeds the disk a descriptor loop. The
// images are then checked with qemu-img and read back with qemu-io.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { buildGuests, PASS_STATUS } from '../../../../../tools/guest-kit/build.mjs';
import { itNeeds } from '../../../../../test/support/requirements.js';
import { createVm } from '../../vm.js';
import { listVms, removeVm, startDetachedVm, VmStore } from '../../instance/index.js';

const vmTest = itNeeds({ kvm: true, tools: ['gcc', 'ld', 'objcopy', 'qemu-img', 'qemu-io'] });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'isola-virtio-kvm-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Open fds that name a disk, KVM object or eventfd: what a failed createVm could leave behind. */
const openFds = () =>
  readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    })
    // (Not any path with "kvm" in it: a worker thread still loading @isola/sys reads dist/kvm/*.js.)
    .filter((target) => target.startsWith(dir) || target === '/dev/kvm' || /^anon_inode:(kvm|\[eventfd\])/.test(target))
    .sort();

describe('virtio-mmio devices in a KVM guest', () => {
  vmTest('a guest reads, writes and flushes a qcow2 disk, meets a read-only disk and virtio-rng, and survives its own descriptor loop', async () => {
    const disk = join(dir, 'disk.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '8M']);
    execFileSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x3c 0 512', disk]);
    const readOnly = join(dir, 'ro.raw');
    writeFileSync(readOnly, new Uint8Array(1 << 20).fill(0x11));
    const chunks: Buffer[] = [];
    const errors: string[] = [];
    const vm = await createVm({
      memoryMiB: 16,
      flat: buildGuests().guests.virtio.flat,
      disks: [{ path: disk, id: 'isola-test-disk' }, { path: readOnly, readOnly: true }],
      rng: true,
      console: (bytes) => chunks.push(Buffer.from(bytes)),
      onDeviceError: (device, reason) => errors.push(`${device}: ${reason}`),
    });
    await vm.start();
    const end = await vm.wait();
    const output = Buffer.concat(chunks).toString();
    expect(output).toBe(
      [
        'hello from the guest',
        'virtio 0x00000000d0000000 device 2',
        'virtio 0x00000000d0001000 device 2',
        'virtio 0x00000000d0002000 device 4',
        'capacity 16384',
        `sector 0 ${'3c'.repeat(16)}`,
        'interrupt status 1 then 0',
        'wrote, flushed and read back sectors 1-2',
        'interrupt: 1 on vector 0x30, status 1, read 1',
        'id isola-test-disk',
        'read past the end: status 1',
        'second disk read-only 1, write status 1',
        'rng 16 bytes, not all zero',
        'descriptor loop: needs reset, interrupt status 3',
        'reset: reads again',
        '',
      ].join('\n'),
    );
    expect(end).toEqual({ reason: 'exit', status: PASS_STATUS });
    expect(errors).toEqual([expect.stringMatching(/^virtio-blk0: queue 0: the chain from head 0 loops/)]);
    execFileSync('qemu-img', ['check', '-q', disk]);
    const io = execFileSync('qemu-io', ['-f', 'qcow2', '-c', 'read -P 0x3c 0 512', '-c', 'read -P 0xa5 512 1024', '-c', 'read -P 0 1536 512', disk]).toString();
    expect(io.match(/read \d+\/\d+ bytes/g)).toEqual(['read 512/512 bytes', 'read 1024/1024 bytes', 'read 512/512 bytes']);
    expect(io).not.toMatch(/Pattern verification failed/);
    const ro = execFileSync('qemu-io', ['-f', 'raw', '-c', 'read -P 0x11 0 512', readOnly]).toString();
    expect(ro).not.toMatch(/Pattern verification failed/);
  });

  vmTest('a disk that cannot be opened fails createVm with EVM_DISK naming it, and leaves no fd behind', async () => {
    const garbage = join(dir, 'garbage.qcow2');
    // The qcow2 magic, then nonsense: the image layer must refuse it, not the VMM crash.
    writeFileSync(garbage, Buffer.concat([Buffer.from('QFI\xfb', 'latin1'), Buffer.alloc(508, 0xff)]));
    const flat = buildGuests().guests.virtio.flat;
    const before = openFds();
    await expect(createVm({ memoryMiB: 16, flat, disks: [{ path: join(dir, 'missing.qcow2') }] })).rejects.toMatchObject({
      code: 'EVM_DISK',
      message: expect.stringContaining(`disk ${join(dir, 'missing.qcow2')}:`),
    });
    await expect(createVm({ memoryMiB: 16, flat, disks: [{ path: garbage }] })).rejects.toMatchObject({ code: 'EVM_DISK', message: expect.stringContaining(garbage) });
    await expect(createVm({ memoryMiB: 16, flat, disks: [{ path: garbage, format: 'raw' }, { path: garbage, format: 'raw' }] })).rejects.toMatchObject({
      code: 'EVM_CONFIG',
      message: expect.stringContaining('is given twice'),
    });
    // The disk opens, then the kernel turns out to be junk: the image must be closed again.
    const good = join(dir, 'good.raw');
    writeFileSync(good, new Uint8Array(1 << 20));
    const junk = join(dir, 'junk.elf');
    writeFileSync(junk, Buffer.alloc(4096, 0x90));
    await expect(createVm({ memoryMiB: 16, kernel: junk, disks: [{ path: good }] })).rejects.toMatchObject({ code: expect.stringMatching(/^E(ELF|BZIMAGE)_/) });
    // Worker threads that were loading are terminated asynchronously; give them a moment.
    for (let i = 0; i < 100 && openFds().length > before.length; i++) await new Promise((r) => setTimeout(r, 10));
    expect(openFds()).toEqual(before);
  });

  vmTest('a detached VM (run -d) gets its disks and rng, and its monitor logs device errors', async () => {
    const disk = join(dir, 'disk.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '8M']);
    const ro = join(dir, 'ro.raw');
    writeFileSync(ro, new Uint8Array(1 << 20));
    const root = join(dir, 'state');
    const vm = await startDetachedVm({ root, memoryMiB: 16, flat: buildGuests().guests.virtio.flat, disks: [{ path: disk }, { path: ro, readOnly: true }], rng: true });
    try {
      for (let i = 0; i < 500 && listVms({ root })[0]?.state !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 20));
      expect(listVms({ root })[0]).toMatchObject({ state: 'stopped', end: 'exit 42' });
      const store = new VmStore(root);
      expect(readFileSync(store.path(vm.id, 'console.log'), 'utf8')).toContain('second disk read-only 1, write status 1\nrng 16 bytes, not all zero\n');
      expect(readFileSync(store.path(vm.id, 'monitor.log'), 'utf8')).toMatch(/^virtio-blk0: queue 0: the chain from head 0 loops/);
    } finally {
      await removeVm(vm.id, { root, force: true });
    }
    execFileSync('qemu-img', ['check', '-q', disk]);
  });
});
