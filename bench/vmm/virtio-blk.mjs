// virtio-blk 4 KiB reads per second: the guest kit's vblkbench guest (PVH ELF) reads a 64 MiB qcow2 disk
// 4 KiB at a time, one request in flight, polling for completion, under isola and under QEMU
// (-M microvm with KVM, virtio-blk-device on virtio-mmio version 2, cache=writeback as isola's page-cache
// reads). The clock runs between the guest's "start" and "done" lines, so boot is not counted.
// Launches alternate between the two monitors; medians and the ratio are printed.
//   node bench/vmm/virtio-blk.mjs [reps]      (after npm run build; needs qemu-img, qemu-system-x86_64)
//   node bench/vmm/virtio-blk.mjs --isola <elf> <disk>   (one isola launch, used by the above)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_READS = 5000; // tools/guest-kit/src/virtio.c

if (process.argv[2] === '--isola') {
  const { createVm } = await import('@isola/hypervisor');
  const vm = await createVm({ memoryMiB: 16, kernel: process.argv[3], cmdline: 'console=ttyS0', console: process.stdout, disks: [{ path: process.argv[4] }] });
  await vm.start();
  const end = await vm.wait();
  process.exitCode = end.reason === 'exit' ? end.status : 1;
} else {
  const { buildGuests } = await import('../../tools/guest-kit/build.mjs');
  const REPS = Number(process.argv[2] ?? 5);
  const elf = buildGuests().guests.vblkbench.pvh;
  const dir = mkdtempSync(join(tmpdir(), 'isola-bench-vblk-'));
  const disk = join(dir, 'disk.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']);
  execFileSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x11 0 64M', disk], { stdio: 'ignore' });
  const self = fileURLToPath(import.meta.url);
  const monitors = {
    isola: () => [process.execPath, [self, '--isola', elf, disk]],
    qemu: () => [
      'qemu-system-x86_64',
      ['-M', 'microvm,x-option-roms=off,rtc=off', '-enable-kvm', '-cpu', 'host,-arch-capabilities', '-m', '16', '-nodefaults', '-no-user-config', '-nographic',
        '-serial', 'stdio', '-device', 'isa-debug-exit,iobase=0x501,iosize=2', '-global', 'virtio-mmio.force-legacy=false',
        '-drive', `id=d0,file=${disk},format=qcow2,if=none,cache=writeback`, '-device', 'virtio-blk-device,drive=d0', '-kernel', elf, '-append', 'console=ttyS0'],
    ],
  };
  const launch = (monitor) =>
    new Promise((resolve, reject) => {
      const [command, args] = monitors[monitor]();
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      let startAt;
      let doneAt;
      child.stdout.on('data', (chunk) => {
        const now = performance.now();
        out += chunk;
        if (startAt === undefined && out.includes('start\n')) startAt = now;
        if (doneAt === undefined && out.includes('done\n')) doneAt = now;
      });
      child.stderr.on('data', (chunk) => (err += chunk));
      child.on('error', reject);
      child.on('close', () => (startAt !== undefined && doneAt !== undefined ? resolve((BENCH_READS * 1000) / (doneAt - startAt)) : reject(new Error(`${monitor}: ${out}${err}`))));
    });
  const samples = { isola: [], qemu: [] };
  try {
    for (let rep = 0; rep < REPS; rep++) for (const monitor of Object.keys(monitors)) samples[monitor].push(await launch(monitor));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const isola = median(samples.isola);
  const qemu = median(samples.qemu);
  console.log(`virtio-blk 4 KiB reads, QD1, polled, 64 MiB qcow2, ${REPS} launches each, medians`);
  console.log(`isola ${isola.toFixed(0)} reads/s, qemu microvm ${qemu.toFixed(0)} reads/s, isola/qemu ${(isola / qemu).toFixed(2)}×`);
  console.log(JSON.stringify({ isola: samples.isola.map(Math.round), qemu: samples.qemu.map(Math.round) }));
}
