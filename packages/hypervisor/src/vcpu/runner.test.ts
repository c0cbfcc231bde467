// The vCPU loop against a scripted fake vCPU: each exit kind goes where it should, without KVM.
import { describe, expect, it } from 'vitest';
import type { Regs, Sregs, VcpuExit, VcpuFd } from '@isola/sys';
import * as wasm from '@isola/wasm';
import { GuestMemory } from '../machine/memory.js';
import { buildPlatform } from '../machine/platform.js';
import { COMMAND, CONTROL_BYTES, STOP } from './protocol.js';
import { scriptedRunPage } from './fake-run-page.js';
import { VcpuRunner } from './runner.js';

const regs = Object.fromEntries(['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags'].map((n) => [n, 0n])) as Regs;

function fakeVcpu() {
  const calls: string[] = [];
  const vcpu = {
    id: 0,
    setImmediateExit: (on: boolean) => calls.push(`immediate_exit=${on}`),
    getRegs: () => ({ ...regs, rip: 0x1234n }),
    getSregs: () => ({ cr0: 0x11n, cr3: 0n, cr4: 0n, efer: 0n, cs: { l: false, db: true, base: 0n, selector: 8 }, ss: { dpl: 0, base: 0n }, ds: { base: 0n }, es: { base: 0n }, fs: { base: 0n }, gs: { base: 0n } }) as unknown as Sregs,
  };
  return { vcpu: vcpu as unknown as VcpuFd, calls };
}

function setup(exits: (VcpuExit | (() => VcpuExit))[]) {
  const { vcpu, calls } = fakeVcpu();
  const memory = GuestMemory.allocate(2 << 20);
  const out: number[] = [];
  const irqs: string[] = [];
  let runner!: VcpuRunner;
  const platform = buildPlatform(
    { debugExit: true },
    {
      consoleOutput: (b) => out.push(b),
      irqLine: (irq, level) => irqs.push(`${irq}:${level}`),
      exit: (status) => runner.end({ reason: 'exit', status }),
      reset: () => runner.end({ reason: 'reset' }),
    },
  );
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_BYTES));
  runner = new VcpuRunner(vcpu, scriptedRunPage(exits), memory, platform, control);
  return { runner, out, irqs, calls, control, memory };
}

const out = (port: number, bytes: number[], size = 1): VcpuExit => ({ kind: 'io', direction: 'out', port, size, count: bytes.length / size, data: Uint8Array.from(bytes) });

describe('VcpuRunner', () => {
  it('sends port writes to the devices (rep outsb too) and ends on the debug-exit port', () => {
    const s = setup([out(0x3f8, [0x68, 0x69]), out(0x80, [1]), out(0x501, [7])]);
    expect(s.runner.run()).toEqual({ reason: 'exit', status: 7 });
    expect(Buffer.from(s.out).toString()).toBe('hi');
    expect(s.runner.counts.io).toBe(3);
    s.memory.close();
  });

  it('answers port and MMIO reads nobody claims with all ones', () => {
    const input: VcpuExit = { kind: 'io', direction: 'in', port: 0x1234, size: 2, count: 1, data: new Uint8Array(2) };
    const mmio: VcpuExit = { kind: 'mmio', address: 0xd0000000n, isWrite: false, length: 4, data: new Uint8Array(4) };
    const s = setup([input, mmio, { kind: 'shutdown' }]);
    expect(s.runner.run()).toEqual({ reason: 'shutdown' });
    expect([...input.data, ...mmio.data]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    s.memory.close();
  });

  it('clears immediate_exit on a kick and stops when told to', () => {
    const s = setup([
      () => {
        Atomics.store(s.control, COMMAND, STOP);
        return { kind: 'intr' };
      },
    ]);
    expect(s.runner.run()).toEqual({ reason: 'stopped' });
    expect(s.calls).toEqual(['immediate_exit=false']);
    s.memory.close();
  });

  it('turns internal errors without instruction bytes and unknown exits into typed errors with registers', () => {
    const a = setup([{ kind: 'internal-error', suberror: 3, reason: 'delivery-event', data: [1n] }]);
    expect(a.runner.run()).toMatchObject({ reason: 'error', code: 'EVCPU_INTERNAL', message: expect.stringMatching(/delivery-event, suberror 3\) on vCPU 0 at rip 0x1234; registers: rax=0x0/) });
    const b = setup([{ kind: 'unknown', reason: 99 }]);
    expect(b.runner.run()).toMatchObject({ reason: 'error', code: 'EVCPU_UNHANDLED_EXIT', message: expect.stringContaining('unknown exit {"kind":"unknown","reason":99} at rip 0x1234') });
    a.memory.close();
    b.memory.close();
  });

  it('hands back an emulation failure that arrives before the emulator has loaded, and handles it first once it has', () => {
    const s = setup([{ kind: 'internal-error', suberror: 1, reason: 'emulation', data: [], instruction: Uint8Array.of(0xcc) }, out(0x501, [1])]);
    expect(s.runner.run()).toBe('needs-emulator');
    s.runner.provideEmulator(wasm);
    // The deferred int3 is handled before any further KVM_RUN: the guest never reaches its exit port.
    expect(s.runner.run()).toMatchObject({ reason: 'error', code: 'EVCPU_EMULATION', message: expect.stringContaining('`int3` (cc) on vCPU 0 at rip 0x1234') });
    s.memory.close();
  });

  it('ends with reset on the i8042 pulse and on KVM reset events', () => {
    expect(setup([out(0x64, [0xfe])]).runner.run()).toEqual({ reason: 'reset' });
    expect(setup([{ kind: 'system-event', event: 'reset', type: 2, data: [] }]).runner.run()).toEqual({ reason: 'reset' });
  });
});
