import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkBindSources, ociMount, prepareMounts, withUserMounts } from './attach.js';
import { VolumeStore } from './store.js';

let dir: string;
let rootfs: string;
let volumes: VolumeStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'isola-attach-'));
  rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'etc', 'conf.d'), { recursive: true });
  writeFileSync(join(rootfs, 'etc', 'conf.d', 'a.conf'), 'a=1\n');
  symlinkSync('a.conf', join(rootfs, 'etc', 'conf.d', 'link'));
  volumes = new VolumeStore(join(dir, 'state'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('prepareMounts', () => {
  it('makes a volume on first use and copies the image content in, once', () => {
    const made: string[] = [];
    const [record] = prepareMounts(volumes, [{ type: 'volume', name: 'conf', target: '/etc/conf.d', readonly: false, nocopy: false }], rootfs, made);
    expect(made).toEqual(['conf']);
    expect(record).toEqual({ type: 'volume', name: 'conf', source: volumes.mountpoint('conf'), destination: '/etc/conf.d', readonly: false, anonymous: undefined });
    expect(readFileSync(join(volumes.mountpoint('conf'), 'a.conf'), 'utf8')).toBe('a=1\n');
    expect(lstatSync(join(volumes.mountpoint('conf'), 'link')).isSymbolicLink()).toBe(true);
    // Used again: not made, not filled again.
    writeFileSync(join(rootfs, 'etc', 'conf.d', 'b.conf'), '');
    const again: string[] = [];
    prepareMounts(volumes, [{ type: 'volume', name: 'conf', target: '/etc/conf.d', readonly: true, nocopy: false }], rootfs, again);
    expect(again).toEqual([]);
    expect(readdirSync(volumes.mountpoint('conf')).sort()).toEqual(['a.conf', 'link']);
  });

  it('copies from inside the rootfs even when the image makes the target a symlink out of it', () => {
    // A hostile image: /data -> ../../../../../<dir>/secret on the host. Resolved in the rootfs, it is /<dir>/secret there: nothing.
    mkdirSync(join(dir, 'secret'));
    writeFileSync(join(dir, 'secret', 'key'), 'host secret');
    symlinkSync(`../../../../../../../..${dir}/secret`, join(rootfs, 'data'));
    prepareMounts(volumes, [{ type: 'volume', name: 'data', target: '/data', readonly: false, nocopy: false }], rootfs, []);
    expect(readdirSync(volumes.mountpoint('data'))).toEqual([]);
  });

  it('names anonymous volumes, honours nocopy, and orders parents first', () => {
    const made: string[] = [];
    const records = prepareMounts(volumes, [
      { type: 'tmpfs', target: '/etc/conf.d/tmp', options: ['size=1m'] },
      { type: 'volume', target: '/etc/conf.d', readonly: false, nocopy: true },
      { type: 'bind', source: '/srv', target: '/srv', readonly: true },
    ], rootfs, made);
    expect(records.map((r) => r.destination)).toEqual(['/srv', '/etc/conf.d', '/etc/conf.d/tmp']);
    expect(made).toHaveLength(1);
    expect(made[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(volumes.get(made[0]!).anonymous).toBe(true);
    expect(readdirSync(volumes.mountpoint(made[0]!))).toEqual([]);
  });
});

describe('OCI mounts', () => {
  it('binds rbind,rprivate (ro when asked), tmpfs noexec,nosuid,nodev, and replaces a default on the same target', () => {
    expect(ociMount({ type: 'bind', source: '/srv', destination: '/srv', readonly: true })).toEqual({ destination: '/srv', type: 'bind', source: '/srv', options: ['rbind', 'ro', 'rprivate'] });
    expect(ociMount({ type: 'tmpfs', source: '', destination: '/run', readonly: false, options: ['exec', 'size=1m'] }))
      .toEqual({ destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', 'exec', 'size=1m'] });
    const defaults = [{ destination: '/proc', type: 'proc', source: 'proc' }, { destination: '/dev/shm', type: 'tmpfs', source: 'shm' }];
    const mounts = withUserMounts(defaults, [{ type: 'tmpfs', source: '', destination: '/dev/shm', readonly: false, options: ['size=1g'] }]);
    expect(mounts.map((m) => `${m.destination}:${m.source}`)).toEqual(['/proc:proc', '/dev/shm:tmpfs']);
  });

  it('names a missing bind source in one line', () => {
    expect(() => checkBindSources([{ type: 'bind', source: join(dir, 'nope'), target: '/x', readonly: false }])).toThrow(`bind source path does not exist: ${join(dir, 'nope')}`);
    expect(() => checkBindSources([{ type: 'bind', source: rootfs, target: '/x', readonly: false }])).not.toThrow();
  });
});

describe('VolumeStore', () => {
  it('creates, lists, finds and removes volumes, and refuses names that are not names', () => {
    expect(volumes.create('v1').created).toBe(true);
    expect(volumes.create('v1').created).toBe(false);
    expect(volumes.list().map((v) => v.name)).toEqual(['v1']);
    for (const bad of ['..', '.hidden', 'a/b', 'x', '../../etc', 'a\0b']) {
      expect(() => volumes.create(bad)).toThrow(/invalid volume name/);
      expect(() => volumes.get(bad)).toThrow(/no such volume/);
    }
    volumes.remove('v1');
    expect(existsSync(join(dir, 'state', 'volumes', 'v1'))).toBe(false);
    expect(() => volumes.remove('v1')).toThrow('no such volume: v1');
  });
});
