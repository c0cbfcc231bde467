// Several vCPUs under the real /dev/kvm: vCPU 0 of the smp guest (tools/guest-kit/src/smp.c) starts
// vCPU 1 with INIT/SIPI through KVM's in-kernel LAPIC; both print, from their own threads, through the
// one shared 8250.
import { describe, expect } from 'vitest';
import { buildMoreGuests } from '../../../../tools/guest-kit/build-more.mjs';
import { PASS_STATUS } from '../../../../tools/guest-kit/build.mjs';
import { itNeeds } from '../../../../test/support/requirements.js';
import { createVm } from '../vm.js';

const vmTest = itNeeds({ kvm: true, tools: ['gcc', 'ld', 'objcopy'] });

describe('SMP', () => {
  vmTest('vCPU 0 starts vCPU 1 by INIT/SIPI; both print through the one 8250, in the order they wrote', async () => {
    const chunks: Buffer[] = [];
    const vm = await createVm({ memoryMiB: 16, cpus: 2, kernel: buildMoreGuests().smp, console: (b) => chunks.push(Buffer.from(b)) });
    expect(vm.cpus).toBe(2);
    await vm.start();
    expect(await vm.wait()).toEqual({ reason: 'exit', status: PASS_STATUS });
    // vCPU 1 sees the scratch register vCPU 0 wrote (90): one UART, not one per vCPU thread.
    const turns = 'ping from vCPU 0\npong from vCPU 1\n'.repeat(3);
    expect(Buffer.concat(chunks).toString()).toBe(`smp: vCPU 0 starts vCPU 1\nhello from vCPU 1\nvCPU 1 reads the scratch register: 90\nsmp: vCPU 1 is up (APIC ID 1)\n${turns}`);
    expect(vm.state).toBe('ended');
  }, 30_000);

  vmTest('stops a machine whose second vCPU was never started (it waits for SIPI inside KVM_RUN)', async () => {
    const { guests } = await import('../../../../tools/guest-kit/build.mjs').then((m) => m.buildGuests());
    const vm = await createVm({ memoryMiB: 16, cpus: 3, kernel: guests.spin.pvh });
    await vm.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(await vm.stop()).toEqual({ reason: 'stopped' });
    expect(vm.state).toBe('ended');
  }, 30_000);
});
