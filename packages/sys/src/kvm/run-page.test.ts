// The kvm_run page read in place: every exit kind written as KVM lays it out reads back as that exit.
// (Real KVM exits through VcpuFd.run(), which decodes with RunPage, are in kvm.test.ts.)
import { describe, expect, it } from 'vitest';
import * as abi from '../abi/constants.js';
import * as structs from '../abi/structs.js';
import { SyscallError } from '../errors.js';
import { encodeExit, type VcpuExit } from './exits.js';
import { EXIT_AGAIN, RunPage } from './run-page.js';

const EXITS: VcpuExit[] = [
  { kind: 'io', direction: 'out', port: 0x3f8, size: 1, count: 1, data: Uint8Array.of(0x41) },
  { kind: 'io', direction: 'in', port: 0xcfc, size: 4, count: 1, data: Uint8Array.of(1, 2, 3, 4) },
  { kind: 'io', direction: 'out', port: 0x80, size: 2, count: 3, data: Uint8Array.of(1, 2, 3, 4, 5, 6) },
  { kind: 'mmio', address: 0xd000_0050n, isWrite: true, length: 4, data: Uint8Array.of(9, 8, 7, 6) },
  { kind: 'mmio', address: 0xfe_dcba_9876_5000n, isWrite: false, length: 8, data: new Uint8Array(8) },
  { kind: 'mmio', address: 0xfee0_0000n, isWrite: false, length: 1, data: new Uint8Array(1) },
  { kind: 'hlt' },
  { kind: 'shutdown' },
  { kind: 'intr' },
  { kind: 'irq-window-open' },
  { kind: 'debug' },
  { kind: 'exception', exception: 13, errorCode: 0x18 },
  { kind: 'fail-entry', hardwareReason: 0x8000_0021n, cpu: 1 },
  { kind: 'system-event', event: 'reset', type: 2, data: [0n] },
  { kind: 'system-event', event: 'other', type: 9, data: [] },
  { kind: 'internal-error', suberror: 3, reason: 'delivery-event', data: [1n, 2n] },
  { kind: 'internal-error', suberror: 1, reason: 'emulation', data: [], instruction: Uint8Array.of(0x66, 0x0f, 0xef, 0xc0) },
  { kind: 'unknown', reason: 99 },
];

describe('RunPage', () => {
  it('decodes every exit kind as it was written', () => {
    for (const exit of EXITS) {
      const page = new Uint8Array(3 * 4096);
      encodeExit(page, exit);
      const run = new RunPage(page, () => {});
      // An emulation failure's data words carry the instruction bytes; the rest reads back exactly.
      if (exit.kind === 'internal-error' && exit.instruction) expect(run.decode()).toMatchObject({ ...exit, data: expect.any(Array) });
      else expect(run.decode(), exit.kind).toEqual(exit);
      expect(run.run()).toBe(new DataView(page.buffer).getUint32(structs.kvm_run.exit_reason, true));
    }
  });

  it('reads port I/O and MMIO fields in place, reusing one data view while offset and length stay', () => {
    const script: VcpuExit[] = [
      EXITS[0]!,
      { kind: 'io', direction: 'out', port: 0x3f9, size: 1, count: 1, data: Uint8Array.of(0x42) },
      EXITS[2]!,
      EXITS[4]!,
    ];
    const bytes = new Uint8Array(3 * 4096);
    const page = new RunPage(bytes, () => encodeExit(bytes, script.shift()!));
    expect(page.run()).toBe(abi.KVM_EXIT_IO);
    const first = page.ioData();
    expect([page.ioOut, page.ioPort, page.ioSize, page.ioCount, [...first]]).toEqual([true, 0x3f8, 1, 1, [0x41]]);
    page.run();
    expect(page.ioData()).toBe(first);
    expect([page.ioPort, first[0]]).toEqual([0x3f9, 0x42]);
    page.run();
    expect([...page.ioData()]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(page.run()).toBe(abi.KVM_EXIT_MMIO);
    expect([page.mmioAddress, page.mmioIsWrite, page.mmioData().length]).toEqual([0xfe_dcba_9876_5000, false, 8]);
    expect(page.mmioData()).toBe(page.mmioData());
  });

  it('turns EINTR into a kick, EAGAIN into EXIT_AGAIN, and lets other failures through', () => {
    const failing = (errno: number) => new RunPage(new Uint8Array(4096), () => {
      throw new SyscallError('ioctl', '3, KVM_RUN, 0', errno);
    });
    expect(failing(4).run()).toBe(abi.KVM_EXIT_INTR);
    expect(failing(11).run()).toBe(EXIT_AGAIN);
    expect(() => failing(14).run()).toThrow(/KVM_RUN.*EFAULT/);
  });
});
