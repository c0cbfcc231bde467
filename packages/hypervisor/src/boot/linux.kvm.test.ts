// The real Debian kernel (linux-image-amd64, unpacked by tools/setup.sh) under isola: its ELF vmlinux,
// taken out of the bzImage's xz stream, booted through PVH with earlyprintk on the 8250, must print
// its "Linux version" banner through isola's serial port. On PVM hosts that takes 20-130 s, as long as
// QEMU+KVM takes under the same load (every guest instruction costs ~1 µs). CX16 and arch-capabilities
// are hidden from CPUID, as QEMU needs -cpu host,-arch-capabilities,-cx16 here. The guest-kit tests
// above check the 64-bit boot protocol itself.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { buildMoreGuests } from '../../../../tools/guest-kit/build-more.mjs';
import { PASS_STATUS } from '../../../../tools/guest-kit/build.mjs';
import { e820Map } from '../machine/e820.js';
import { planRegions } from '../machine/memory.js';
import { BOOT_PAGE_TABLES_ADDRESS } from '../machine/layout.js';
import { createVm } from '../vm.js';
import { parseBzImage } from './bzimage.js';

const cache = process.env.ISOLA_CACHE_DIR || join(homedir(), '.cache', 'isola');
const bootDir = join(cache, 'kernel', 'boot');
const vmlinuz = (existsSync(bootDir) ? readdirSync(bootDir).filter((f) => f.startsWith('vmlinuz-')).sort() : []).map((f) => join(bootDir, f)).at(-1) ?? join(bootDir, 'vmlinuz-*');
const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

/** The ELF vmlinux inside the bzImage, decompressed once into the cache next to it. */
function vmlinux(): string {
  const out = join(cache, 'kernel', `vmlinux-${vmlinuz.split('/').pop()!.slice('vmlinuz-'.length)}`);
  if (existsSync(out)) return out;
  const image = readFileSync(vmlinuz);
  const at = image.indexOf(XZ_MAGIC);
  if (at < 0) throw new Error(`${vmlinuz}: no xz stream`);
  // Trailing bytes after the stream make xz exit non-zero; its output is complete all the same.
  const xz = spawnSync('xz', ['-dc', '--single-stream'], { input: image.subarray(at), maxBuffer: 1 << 30 });
  if (!xz.stdout || xz.stdout.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${vmlinuz}: the xz stream did not decompress to an ELF`);
  mkdirSync(join(cache, 'kernel'), { recursive: true });
  writeFileSync(`${out}.tmp-${process.pid}`, xz.stdout);
  renameSync(`${out}.tmp-${process.pid}`, out);
  return out;
}

const guestTest = itNeeds({ kvm: true, tools: ['gcc', 'ld', 'objcopy'] });
const kernelTest = itNeeds({ kvm: true, tools: ['xz'], files: [vmlinuz] });
const fileTest = itNeeds({ files: [vmlinuz] });

describe("Linux's 64-bit boot protocol under KVM", () => {
  guestTest('enters an ELF without a PVH note in long mode with boot_params: cmdline, initrd, e820 and ACPI arrive', async () => {
    const chunks: Buffer[] = [];
    const vm = await createVm({
      memoryMiB: 32,
      cpus: 2,
      kernel: buildMoreGuests().linux64,
      cmdline: 'console=ttyS0 isola=linux64',
      initrd: new Uint8Array(Buffer.from('070701 an initramfs, as cpio starts')),
      console: (b) => chunks.push(Buffer.from(b)),
    });
    await vm.start();
    expect(await vm.wait()).toEqual({ reason: 'exit', status: PASS_STATUS });
    const e820 = e820Map(planRegions(32 << 20)).map((e) => `e820 0x${e.address.toString(16).padStart(16, '0')} 0x${e.size.toString(16).padStart(16, '0')} ${e.type}\n`);
    expect(Buffer.concat(chunks).toString()).toBe(
      'linux64: boot protocol 2.15, loader 0x00000000000000ff, cmdline "console=ttyS0 isola=linux64"\n' +
        'initrd 35 bytes: 070701 an initra\n' +
        e820.join('') +
        'acpi: FADT hardware-reduced 1\nacpi: DSDT has 0 virtio-mmio devices\nacpi: MADT lists 2 local APICs\n',
    );
  });

  guestTest('refuses an initrd for a PVH entry, and a kernel it cannot parse, leaving nothing behind', async () => {
    await expect(createVm({ memoryMiB: 16, kernel: buildMoreGuests().smp, initrd: new Uint8Array(8) })).rejects.toMatchObject({ code: 'EVM_CONFIG', message: expect.stringContaining('initrd needs') });
    await expect(createVm({ memoryMiB: 16, kernel: buildMoreGuests().linux64, initrd: '/nonexistent/initrd.img' })).rejects.toMatchObject({ code: 'EVM_CONFIG', message: expect.stringContaining('ENOENT') });
    await expect(createVm({ memoryMiB: 16, kernel: buildMoreGuests().linux64, boot: 'pvh' })).rejects.toMatchObject({ code: 'EPVH_NO_ENTRY' });
  });
});

describe('the Debian kernel', () => {
  fileTest('has a bzImage setup header isola can boot: protocol 2.15, a 64-bit entry, relocatable to 16 MiB', () => {
    const header = parseBzImage(new Uint8Array(readFileSync(vmlinuz)), vmlinuz);
    expect(header.version).toBeGreaterThanOrEqual(0x020c);
    expect(header.xloadflags & 1).toBe(1);
    expect(header.relocatable).toBe(true);
    expect(header.prefAddress).toBe(0x100_0000);
    expect(header.kernelOffset).toBe((header.setupSects + 1) * 512);
    expect(header.raw.length).toBe(0x202 + readFileSync(vmlinuz)[0x201]! - 0x1f1);
  });

  kernelTest(
    'boots its bzImage through the 64-bit entry: the decompressor relocates itself and runs on its own page tables',
    async () => {
      // Debian builds without CONFIG_X86_VERBOSE_BOOTUP, so the decompressor prints nothing; and its xz
      // takes minutes here. What shows that isola's boot_params, page tables and GDT were right: the
      // vCPU runs inside [pref_address, pref_address + init_size), where startup_64 copies itself,
      // with CR3 moved off isola's tables onto the ones the decompressor built.
      const header = parseBzImage(new Uint8Array(readFileSync(vmlinuz)), vmlinuz);
      const vm = await createVm({ memoryMiB: 256, kernel: vmlinuz, cmdline: 'console=ttyS0', hideCpuFeatures: ['cx16', 'arch-capabilities'] });
      await vm.start();
      const inside = (address: bigint) => address >= BigInt(header.prefAddress) && address < BigInt(header.prefAddress + header.initSize);
      try {
        let seen: { rip: bigint; cr3: bigint; efer: bigint } | undefined;
        for (const deadline = Date.now() + 120_000; Date.now() < deadline; ) {
          await new Promise((r) => setTimeout(r, 1000));
          await vm.pause();
          const [{ regs, sregs }] = vm.registers();
          vm.resume();
          seen = { rip: regs.rip, cr3: sregs.cr3, efer: sregs.efer };
          if (sregs.cr3 !== BigInt(BOOT_PAGE_TABLES_ADDRESS)) break;
        }
        expect(seen!.cr3).not.toBe(BigInt(BOOT_PAGE_TABLES_ADDRESS));
        expect(inside(seen!.cr3), `cr3 0x${seen!.cr3.toString(16)}`).toBe(true);
        expect(inside(seen!.rip), `rip 0x${seen!.rip.toString(16)}`).toBe(true);
        expect(seen!.efer & 0x400n).toBe(0x400n); // still in long mode
      } finally {
        await vm.stop().catch(() => {});
      }
    },
    180_000,
  );

  kernelTest(
    'boots its ELF vmlinux through PVH and prints "Linux version" on isola\'s serial port',
    async () => {
      const chunks: Buffer[] = [];
      const vm = await createVm({
        memoryMiB: 256,
        kernel: vmlinux(),
        cmdline: 'earlyprintk=serial console=ttyS0',
        hideCpuFeatures: ['cx16', 'arch-capabilities'],
        console: (bytes) => chunks.push(Buffer.from(bytes)),
      });
      await vm.start();
      const output = () => Buffer.concat(chunks).toString('latin1');
      const ended = vm.wait().then(
        (end) => ({ end }),
        (error: Error) => ({ error }),
      );
      try {
        const deadline = Date.now() + 300_000;
        let result: unknown;
        void ended.then((r) => (result = r));
        while (!output().includes('Linux version') && result === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        expect(output(), `serial output so far; the VM ended with ${JSON.stringify(result)}`).toMatch(/Linux version 6\.\d+\.\d+/);
      } finally {
        await vm.stop().catch(() => {});
      }
    },
    330_000,
  );
});
