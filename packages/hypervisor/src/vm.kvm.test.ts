// Whole machines under the real /dev/kvm, running the guest kit (tools/guest-kit): flat and PVH boot,
// serial output and input, the debug-exit status, i8042 reset, emulation of what KVM cannot execute
// here, and pause/resume/stop by kicking the vCPU thread.
import { describe, expect } from 'vitest';
import { buildGuests, PASS_STATUS, SPIN_COUNTER_ADDRESS, type Variant } from '../../../tools/guest-kit/build.mjs';
import { itNeeds } from '../../../test/support/requirements.js';
import { e820Map } from './machine/e820.js';
import { planRegions } from './machine/memory.js';
import { createVm, type Vm, type VmOptions } from './vm.js';

const vmTest = itNeeds({ kvm: true, tools: ['gcc', 'ld', 'objcopy'] });

function guest(variant: Variant, kind: 'flat' | 'pvh'): Partial<VmOptions> {
  const { guests } = buildGuests();
  return kind === 'flat' ? { flat: guests[variant].flat } : { kernel: guests[variant].pvh };
}

async function boot(variant: Variant, kind: 'flat' | 'pvh', extra: Partial<VmOptions> = {}) {
  const chunks: Buffer[] = [];
  const emulated: string[] = [];
  const vm = await createVm({
    memoryMiB: 16,
    ...guest(variant, kind),
    console: (bytes) => chunks.push(Buffer.from(bytes)),
    onEmulated: (instruction) => emulated.push(instruction),
    ...extra,
  });
  await vm.start();
  return { vm, output: () => Buffer.concat(chunks).toString(), emulated };
}

async function until(what: string, condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function counter(vm: Vm): bigint {
  return Buffer.from(vm.readMemory(SPIN_COUNTER_ADDRESS, 8)).readBigUInt64LE();
}

describe('a VM running the guest kit', () => {
  vmTest('boots a flat binary in real mode: its serial output and debug-exit status arrive', async () => {
    const { vm, output } = await boot('hello', 'flat');
    expect(await vm.wait()).toEqual({ reason: 'exit', status: PASS_STATUS });
    expect(output()).toBe('hello from the guest\n');
    expect(vm.state).toBe('ended');
    expect(vm.counts!.io).toBeGreaterThan(40);
  });

  vmTest('boots an ELF through its PVH note: the guest reads start_info, the command line and the memory map', async () => {
    const { vm, output } = await boot('hello', 'pvh', { cmdline: 'console=ttyS0 isola=1' });
    expect(await vm.wait()).toEqual({ reason: 'exit', status: PASS_STATUS });
    const memmap = e820Map(planRegions(16 << 20))
      .map((e) => `memmap 0x${e.address.toString(16).padStart(16, '0')} 0x${e.size.toString(16).padStart(16, '0')} ${e.type}\n`)
      .join('');
    expect(output()).toBe(`hello from the guest\npvh start_info version 1, cmdline "console=ttyS0 isola=1"\n${memmap}`);
  });

  vmTest('emulates lock cmpxchg16b, which KVM gives up on here, and the guest sees its result', async () => {
    const { vm, output, emulated } = await boot('cx16', 'flat');
    expect(await vm.wait()).toEqual({ reason: 'exit', status: PASS_STATUS });
    expect(output()).toContain('cmpxchg16b ok');
    // RIP-relative operands print as the address they resolve to, as iced-x86 does.
    expect(emulated).toEqual([expect.stringMatching(/^lock cmpxchg16b xmmword ptr \[[0-9A-F]+h\]$/)]);
    expect(vm.counts!.emulated).toBe(1);
  });

  vmTest('stops on int3 with an error naming the instruction, its bytes, RIP and the registers', async () => {
    const { vm, output } = await boot('int3', 'pvh');
    await expect(vm.wait()).rejects.toMatchObject({
      code: 'EVCPU_EMULATION',
      message: expect.stringMatching(/KVM cannot emulate `int3` \(cc\) on vCPU 0 at rip 0x1[0-9a-f]{5}, and isola's x86 emulator does not execute it; registers: rax=.* rip=0x1/),
    });
    expect(output()).toContain('running int3\n');
    expect(output()).not.toContain('int3 ran');
    expect(vm.state).toBe('ended');
  });

  vmTest('emulates an SSE pxor, then stops the same way on an SSE instruction the emulator refuses', async () => {
    const { vm, output, emulated } = await boot('sse', 'flat');
    await expect(vm.wait()).rejects.toMatchObject({ code: 'EVCPU_EMULATION', message: expect.stringContaining('`aesenc xmm0, xmm1` (66 0f 38 dc c1)') });
    expect(emulated).toEqual(['pxor xmm0, xmm0']);
    expect(output()).toContain('pxor ran\n');
    expect(output()).not.toContain('aesenc ran');
  });

  vmTest('ends with reason reset when the guest pulses reset through the i8042', async () => {
    const { vm, output } = await boot('reset', 'flat');
    expect(await vm.wait()).toEqual({ reason: 'reset' });
    expect(output()).toContain('resetting\n');
  });

  vmTest('shutdown presses Ctrl+Alt+Del on the i8042, and a guest that waits for it ends by itself', async () => {
    const { vm, output } = await boot('poweroff', 'pvh');
    await until('the guest to be ready', () => output().includes('ready\n'));
    expect(await vm.shutdown({ timeoutMs: 20_000 })).toEqual({ reason: 'exit', status: PASS_STATUS });
    expect(output()).toContain('ctrl-alt-del: powering off\n');
  });

  vmTest('shutdown stops the vCPUs of a guest that ignores the request once the timeout passes', async () => {
    const { vm, output } = await boot('spin', 'pvh');
    await until('the guest to spin', () => output().includes('spinning'));
    expect(await vm.shutdown({ timeoutMs: 200 })).toEqual({ reason: 'stopped' });
    expect(vm.state).toBe('ended');
  });

  vmTest('delivers console input to the guest through the UART', async () => {
    const { vm, output } = await boot('echo', 'flat');
    await until('the guest to be ready', () => output().includes('ready\n'));
    vm.input('isola\n');
    expect(await vm.wait()).toEqual({ reason: 'exit', status: PASS_STATUS });
    expect(output()).toBe('hello from the guest\nready\nisola\n');
  });

  vmTest('pauses, resumes and stops a spinning vCPU by kicking its thread', async () => {
    const { vm, output } = await boot('spin', 'pvh');
    try {
      await until('the guest to spin', () => output().includes('spinning') && counter(vm) > 1000n);
      await vm.pause();
      expect(vm.state).toBe('paused');
      const paused = counter(vm);
      await new Promise((r) => setTimeout(r, 100));
      expect(counter(vm)).toBe(paused);
      vm.resume();
      await until('the counter to move again', () => counter(vm) > paused);
      const started = performance.now();
      expect(await vm.stop()).toEqual({ reason: 'stopped' });
      expect(performance.now() - started).toBeLessThan(1000);
      expect(vm.state).toBe('ended');
      expect(() => vm.readMemory(SPIN_COUNTER_ADDRESS, 8)).toThrow(/ended/);
    } finally {
      if (vm.state !== 'ended') await vm.stop();
    }
  });

  vmTest('stops a paused VM', async () => {
    const { vm, output } = await boot('spin', 'flat');
    await until('the guest to spin', () => output().includes('spinning'));
    await vm.pause();
    expect(await vm.stop()).toEqual({ reason: 'stopped' });
  });

  vmTest('refuses malformed kernels with typed errors before running anything', async () => {
    await expect(createVm({ memoryMiB: 16, kernel: new Uint8Array(100) })).rejects.toMatchObject({ code: 'EELF_MAGIC' });
    await expect(createVm({ memoryMiB: 16, kernel: '/nonexistent/vmlinux' })).rejects.toMatchObject({ code: 'EVM_CONFIG', message: expect.stringContaining('ENOENT') });
    const { guests } = buildGuests();
    // The PVH guest links at 1 MiB and needs about 1.04 MiB: with 2 MiB it fits, a flat one too.
    await expect(createVm({ memoryMiB: 16, flat: guests.hello.flat, kernel: guests.hello.pvh })).rejects.toMatchObject({ code: 'EVM_CONFIG' });
    await expect(createVm({ memoryMiB: 16, cpus: 0, flat: guests.hello.flat })).rejects.toMatchObject({ code: 'EVM_CONFIG' });
    await expect(createVm({ memoryMiB: 16, cpus: 255, flat: guests.hello.flat })).rejects.toMatchObject({ code: 'EVM_CONFIG', message: expect.stringContaining('255 vCPUs: give 1 to 254') });
    await expect(createVm({ memoryMiB: 16, flat: guests.hello.flat, initrd: new Uint8Array(10) })).rejects.toMatchObject({ code: 'EVM_CONFIG', message: 'an initrd needs a kernel' });
  });
});
