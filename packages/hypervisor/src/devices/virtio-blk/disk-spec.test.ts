import { describe, expect, it } from 'vitest';
import { parseDiskSpec } from './disk-spec.js';

describe('parseDiskSpec', () => {
  it('reads a path and its options', () => {
    expect(parseDiskSpec('/var/lib/disk.qcow2')).toEqual({ path: '/var/lib/disk.qcow2' });
    expect(parseDiskSpec('disk.img,ro')).toEqual({ path: 'disk.img', readOnly: true });
    expect(parseDiskSpec('disk.img,readonly,format=raw,id=serial-1')).toEqual({ path: 'disk.img', readOnly: true, format: 'raw', id: 'serial-1' });
    expect(parseDiskSpec('disk.img,ro,rw')).toEqual({ path: 'disk.img', readOnly: false });
  });

  it('takes a doubled comma as a comma of the path, as QEMU does', () => {
    expect(parseDiskSpec('a,,b.qcow2,ro')).toEqual({ path: 'a,b.qcow2', readOnly: true });
    expect(parseDiskSpec('d,id=x=y')).toEqual({ path: 'd', id: 'x=y' });
  });

  it('refuses what it does not know, naming the option', () => {
    expect(() => parseDiskSpec('')).toThrow(expect.objectContaining({ code: 'EVM_CONFIG', message: '--disk "": the path is empty' }));
    expect(() => parseDiskSpec(',ro')).toThrow(/the path is empty/);
    expect(() => parseDiskSpec('d,rx')).toThrow(expect.objectContaining({ code: 'EVM_CONFIG', message: expect.stringContaining('unknown option "rx"') }));
    expect(() => parseDiskSpec('d,format=vmdk')).toThrow(/unknown option "format=vmdk"/);
    expect(() => parseDiskSpec('d,ro=1')).toThrow(/unknown option "ro=1"/);
    expect(() => parseDiskSpec(`d,id=${'x'.repeat(21)}`)).toThrow(/up to 20 bytes/);
  });
});
