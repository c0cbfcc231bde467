// Detached VMs end to end through the library the CLI calls: a monitor process per VM that outlives
// its caller, console.log, state that never says running after the monitor died, stop (Ctrl+Alt+Del,
// then kill), rm, and a bad kernel that leaves nothing behind. State goes to a temporary $ISOLA_ROOT.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect } from 'vitest';
import { buildGuests, PASS_STATUS } from '../../../../tools/guest-kit/build.mjs';
import { buildMoreGuests } from '../../../../tools/guest-kit/build-more.mjs';
import { itNeeds } from '../../../../test/support/requirements.js';
import { listVms, vmTable } from './list.js';
import { procStartTime } from '@isola/sys';
import { monitorAlive, observeVm } from './observe.js';
import { removeVm } from './remove.js';
import { startDetachedVm } from './start.js';
import { stopVm } from './stop.js';
import { vmLogs } from './logs.js';
import { VmStore } from './store.js';

const vmTest = itNeeds({ kvm: true, tools: ['gcc', 'ld', 'objcopy'] });
const root = mkdtempSync(join(tmpdir(), 'isola-vms-'));
afterAll(() => {
  // Kill any monitor a failed test left behind, by the pid its record names.
  const store = new VmStore(root);
  for (const id of store.ids()) {
    const record = store.record(id);
    if (record && monitorAlive(record)) process.kill(record.pid, 'SIGKILL');
  }
  rmSync(root, { recursive: true, force: true });
});

async function logsOf(ref: string, follow = false): Promise<string> {
  const chunks: Buffer[] = [];
  await vmLogs(ref, { root, follow, write: (b) => chunks.push(Buffer.from(b)) });
  return Buffer.concat(chunks).toString();
}

async function until(what: string, condition: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('detached VMs', () => {
  vmTest('run -d: the VM runs in its own monitor process, and its serial output lands in console.log', async () => {
    const { guests } = buildGuests();
    const config = await startDetachedVm({ root, name: 'hello', memoryMiB: 16, flat: guests.hello.flat });
    expect(config).toMatchObject({ name: 'hello', cpus: 1, memoryMiB: 16, flat: guests.hello.flat });
    // The guest writes to the debug-exit port and the VM ends by itself.
    expect(await logsOf('hello', true)).toBe('hello from the guest\n');
    const [row] = listVms({ root }).filter((r) => r.name === 'hello');
    expect(row).toMatchObject({ id: config.id, name: 'hello', state: 'stopped', cpus: 1, mem: 16, kernel: guests.hello.flat, end: `exit ${PASS_STATUS}` });
    expect(vmTable([row!])).toMatch(/^VM ID +NAME +STATE +CPUS +MEM +KERNEL +CREATED\n[0-9a-f]{12} +hello +stopped \(exit 42\) +1 +16MiB +\S+hello\.bin +\d+ seconds ago$/);
    await expect(startDetachedVm({ root, name: 'hello', memoryMiB: 16, flat: guests.hello.flat })).rejects.toMatchObject({ code: 'EVM_NAME_IN_USE' });
    expect(await removeVm(config.id.slice(0, 10), { root })).toEqual({ id: config.id, name: 'hello' });
    expect(existsSync(join(root, 'vms', config.id))).toBe(false);
    expect(existsSync(join(root, 'vm-names', 'hello'))).toBe(false);
  }, 30_000);

  vmTest('run -d --trace-mmio: the monitor writes the MMIO trace into the VM log, in order with the serial output', async () => {
    const config = await startDetachedVm({ root, name: 'traced', memoryMiB: 16, kernel: buildMoreGuests().mmio, traceMmio: true });
    expect(config).toMatchObject({ name: 'traced', traceMmio: true });
    const log = (await logsOf('traced', true)).replace(/rip=0x10[0-9a-f]{4}/g, 'rip=RIP');
    expect(log).toBe(
      [
        'mmio write 4 bytes at 0xd0000070 = 0x0000000f  rip=RIP  mov dword ptr [rax+70h], ecx',
        'mmio write 1 byte at 0xd0000010 = 0x5a  rip=RIP  mov byte ptr [rax+10h], 5Ah',
        'mmio read 8 bytes at 0xd0000008 = 0xffffffffffffffff  rip=RIP  mov rdx, qword ptr [rax+8]',
        'mmio read 2 bytes at 0xd0000002 = 0xffff  rip=RIP  movzx eax, word ptr [rbx+2]',
        'mmio: reads saw all ones',
        '',
      ].join('\n'),
    );
    expect(listVms({ root }).find((r) => r.name === 'traced')).toMatchObject({ state: 'stopped', end: `exit ${PASS_STATUS}` });
    await removeVm('traced', { root });
  }, 30_000);

  vmTest('stop presses Ctrl+Alt+Del for the guest through the monitor, and a guest that acts on it ends cleanly', async () => {
    const { guests } = buildGuests();
    const config = await startDetachedVm({ root, name: 'polite', memoryMiB: 16, kernel: guests.poweroff.pvh });
    const record = new VmStore(root).record(config.id)!;
    await until('the guest to be ready', async () => (await logsOf('polite')).includes('ready\n'));
    expect(await stopVm('polite', { root, timeoutMs: 20_000 })).toEqual({ id: config.id, name: 'polite', killed: false });
    expect(monitorAlive(record)).toBe(false);
    expect(await logsOf('polite')).toContain('ctrl-alt-del: powering off\n');
    expect(observeVm(new VmStore(root), config.id)).toMatchObject({ status: 'stopped', record: { end: `exit ${PASS_STATUS}` } });
    await removeVm('polite', { root });
  }, 40_000);

  vmTest('stop kills the monitor of a guest that ignores the power-off request; rm refuses a running VM without -f', async () => {
    const { guests } = buildGuests();
    const config = await startDetachedVm({ root, name: 'spinner', memoryMiB: 16, cpus: 2, kernel: guests.spin.pvh });
    const store = new VmStore(root);
    const record = store.record(config.id)!;
    expect(record).toMatchObject({ status: 'running', startTime: procStartTime(record.pid) });
    expect(record.pid).not.toBe(process.pid);
    await until('the guest to spin', async () => (await logsOf('spinner')).includes('spinning'));
    expect(listVms({ root }).find((r) => r.name === 'spinner')).toMatchObject({ state: 'running', cpus: 2 });
    await expect(removeVm('spinner', { root })).rejects.toMatchObject({ code: 'EVM_RUNNING', message: 'VM spinner is running: stop it first, or remove it with -f' });
    expect(await stopVm('spinner', { root, timeoutMs: 500 })).toEqual({ id: config.id, name: 'spinner', killed: true });
    expect(monitorAlive(record)).toBe(false);
    expect(observeVm(store, config.id)).toMatchObject({ status: 'stopped', record: { end: 'killed after the stop timeout' } });
    // Stopping a stopped VM is fine, as docker stop is.
    expect(await stopVm(config.id, { root })).toMatchObject({ killed: false });
    await removeVm('spinner', { root });
  }, 30_000);

  vmTest('a VM whose monitor was killed is reported stopped, never running; rm -f kills a running one', async () => {
    const { guests } = buildGuests();
    const a = await startDetachedVm({ root, name: 'victim', memoryMiB: 16, kernel: guests.spin.pvh });
    const record = new VmStore(root).record(a.id)!;
    process.kill(record.pid, 'SIGKILL');
    await until('the monitor to die', () => !monitorAlive(record));
    expect(listVms({ root }).find((r) => r.name === 'victim')).toMatchObject({ state: 'stopped', end: 'the monitor process died' });
    await removeVm('victim', { root });
    const b = await startDetachedVm({ root, name: 'forced', memoryMiB: 16, kernel: guests.spin.pvh });
    const pid = new VmStore(root).record(b.id)!.pid;
    await removeVm('forced', { root, force: true });
    expect(procStartTime(pid)).toBeUndefined();
    expect(existsSync(join(root, 'vms', b.id))).toBe(false);
  }, 30_000);

  vmTest('a kernel that cannot boot fails run -d with its own error, leaving no directory, name or process', async () => {
    const before = existsSync(join(root, 'vms')) ? readdirSync(join(root, 'vms')) : [];
    await expect(startDetachedVm({ root, name: 'broken', memoryMiB: 16, kernel: '/etc/hostname' })).rejects.toMatchObject({ code: 'EELF_MAGIC' });
    await expect(startDetachedVm({ root, name: 'broken', memoryMiB: 16, kernel: '/nonexistent/vmlinux' })).rejects.toMatchObject({ code: 'EVM_CONFIG', message: expect.stringContaining('ENOENT') });
    await expect(startDetachedVm({ root, name: '../evil', memoryMiB: 16, kernel: '/nonexistent' })).rejects.toMatchObject({ code: 'EVM_CONFIG', message: expect.stringContaining('VM name "../evil"') });
    expect(readdirSync(join(root, 'vms'))).toEqual(before);
    expect(existsSync(join(root, 'vm-names', 'broken'))).toBe(false);
    expect(() => new VmStore(root).resolve('nothere')).toThrow(/no such VM: nothere/);
  }, 30_000);
});
