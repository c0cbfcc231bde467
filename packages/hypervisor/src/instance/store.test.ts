// The VM store without KVM: names are claimed atomically and validated, references resolve by name,
// id and unique prefix, and a record that says running is believed only while its monitor lives.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { vmTable } from './list.js';
import { bootId, procStartTime } from '@isola/sys';
import { observeVm } from './observe.js';
import { VmStore } from './store.js';

const root = mkdtempSync(join(tmpdir(), 'isola-vmstore-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('VmStore', () => {
  const store = new VmStore(root);

  it('claims names once, refuses bad ones, and resolves names, ids and unique prefixes', () => {
    const a = store.create({ name: 'alpha', cpus: 2, memoryMiB: 64, kernel: '/k' });
    expect(a).toMatchObject({ name: 'alpha', cpus: 2, memoryMiB: 64, kernel: '/k', id: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(() => store.create({ name: 'alpha', cpus: 1, memoryMiB: 16 })).toThrow(expect.objectContaining({ code: 'EVM_NAME_IN_USE' }));
    for (const bad of ['../x', 'a/b', '', '.hidden', 'x'.repeat(200)]) expect(() => store.create({ name: bad, cpus: 1, memoryMiB: 16 })).toThrow(expect.objectContaining({ code: 'EVM_CONFIG' }));
    const b = store.create({ cpus: 1, memoryMiB: 16 });
    expect(b.name).toBe(`vm-${b.id.slice(0, 8)}`);
    expect(store.resolve('alpha')).toBe(a.id);
    expect(store.resolve(a.id)).toBe(a.id);
    expect(store.resolve(b.id.slice(0, 12))).toBe(b.id);
    expect(() => store.resolve('zzz')).toThrow(/no such VM: zzz/);
    expect(() => store.resolve('../vms')).toThrow(expect.objectContaining({ code: 'EVM_NOT_FOUND' }));
    store.remove(b.id);
    expect(store.ids()).toEqual([a.id]);
  });

  it('reports a VM stopped when its recorded monitor is gone, a reused pid, or another boot', () => {
    const { id } = store.create({ name: 'stale', cpus: 1, memoryMiB: 16 });
    expect(observeVm(store, id).status).toBe('stopped'); // never started
    const me = { pid: process.pid, startTime: procStartTime(process.pid)!, bootId: bootId() };
    store.writeRecord(id, { status: 'running', ...me });
    expect(observeVm(store, id).status).toBe('running');
    store.writeRecord(id, { status: 'running', ...me, startTime: me.startTime + 1 }); // the pid was reused
    expect(observeVm(store, id)).toMatchObject({ status: 'stopped', record: { status: 'stopped', end: 'the monitor process died' } });
    store.writeRecord(id, { status: 'running', ...me, bootId: 'another-boot' });
    expect(observeVm(store, id).status).toBe('stopped');
    store.writeRecord(id, { status: 'running', ...me, pid: 0x3fffffff });
    expect(observeVm(store, id).status).toBe('stopped');
  });

  it('prints the table docker-style', () => {
    const now = Date.parse('2026-01-01T00:10:00Z');
    const table = vmTable([{ id: 'a'.repeat(64), name: 'web', state: 'running', cpus: 2, mem: 512, kernel: '/boot/vmlinux', created: '2026-01-01T00:00:00Z' }], now);
    expect(table).toBe('VM ID          NAME   STATE     CPUS   MEM      KERNEL          CREATED\naaaaaaaaaaaa   web    running   2      512MiB   /boot/vmlinux   10 minutes ago');
  });
});
