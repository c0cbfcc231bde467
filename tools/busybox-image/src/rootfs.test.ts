import { describe, expect, it } from 'vitest';
import { planRootfs, type RootfsEntry } from './rootfs.js';

const binary = Buffer.from('\x7fELF busybox');
const applets = ['usr/bin/[', 'bin/sh', 'bin/busybox', 'sbin/init', 'usr/bin/env', 'bin/sh'];

const byPath = (entries: RootfsEntry[]) => new Map(entries.map((e) => [e.path, e]));

describe('planRootfs', () => {
  it('stores busybox once and hard-links every other applet to it', () => {
    const entries = byPath(planRootfs(applets, binary));
    expect(entries.get('bin/busybox')).toEqual({ type: 'file', path: 'bin/busybox', mode: 0o755, content: binary });
    for (const path of ['bin/sh', 'sbin/init', 'usr/bin/env', 'usr/bin/[']) {
      expect(entries.get(path)).toEqual({ type: 'link', path, mode: 0o755, target: 'bin/busybox' });
    }
  });

  it('creates the directories applets need and the ones a runtime expects, with their modes', () => {
    const entries = byPath(planRootfs(applets, binary));
    const dirMode = (path: string) => {
      const entry = entries.get(path);
      return entry?.type === 'directory' ? entry.mode : undefined;
    };
    for (const path of ['bin', 'sbin', 'usr', 'usr/bin', 'dev', 'proc', 'sys', 'etc', 'var', 'home']) expect(dirMode(path)).toBe(0o755);
    expect(dirMode('tmp')).toBe(0o1777);
    expect(dirMode('root')).toBe(0o700);
    expect(entries.has('usr/sbin')).toBe(false);
  });

  it('writes passwd and group for root and nobody, and placeholders to mount hosts and resolv.conf on', () => {
    const text = (path: string) => {
      const entry = byPath(planRootfs(applets, binary)).get(path);
      return entry?.type === 'file' ? Buffer.from(entry.content).toString() : undefined;
    };
    expect(text('etc/passwd')).toMatch(/^root:x:0:0:root:\/root:\/bin\/sh\nnobody:x:65534:65534:/);
    expect(text('etc/group')).toBe('root:x:0:\nnobody:x:65534:\n');
    expect(text('etc/hosts')).toBe('');
    expect(text('etc/resolv.conf')).toBe('');
  });

  it('orders parents before children and the busybox file before any link to it, whatever the input order', () => {
    const entries = planRootfs(applets, binary);
    expect(planRootfs([...applets].reverse(), binary)).toEqual(entries);
    const seen = new Set<string>();
    for (const entry of entries) {
      const parent = entry.path.split('/').slice(0, -1).join('/');
      if (parent) expect(seen).toContain(parent);
      if (entry.type === 'link') expect(seen).toContain(entry.target);
      seen.add(entry.path);
    }
    // 'usr/bin/[' sorts before 'usr/bin/env' in byte order, whatever the locale.
    const links = entries.filter((e) => e.type === 'link').map((e) => e.path);
    expect(links).toEqual(['bin/sh', 'sbin/init', 'usr/bin/[', 'usr/bin/env']);
  });

  it('refuses applet paths that would leave the rootfs or collide with a base path', () => {
    expect(() => planRootfs(['../etc/shadow'], binary)).toThrow('busybox listed an unusable applet path "../etc/shadow"');
    expect(() => planRootfs(['/bin/sh'], binary)).toThrow('unusable applet path');
    expect(() => planRootfs(['bin//sh'], binary)).toThrow('unusable applet path');
    expect(() => planRootfs(['tmp'], binary)).toThrow('busybox applet "tmp" collides with a base path');
  });
});
