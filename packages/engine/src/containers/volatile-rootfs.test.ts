// A --rm container's overlay is mounted `volatile`: with a recording fake (what is asked of mount(2))
// and against the kernel (what the mount then is).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MountArgs } from '@isola/sys';
import { describe, expect, it } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { volatileOverlayOps } from './volatile-rootfs.js';

function recorder(failFirst = 0) {
  const calls: MountArgs[] = [];
  let failures = failFirst;
  return {
    calls,
    ops: {
      mount(args: MountArgs) {
        calls.push(args);
        if (failures-- > 0) throw Object.assign(new Error('mount: EINVAL'), { code: 'EINVAL' });
      },
      umount2() {},
    },
  };
}

describe('volatileOverlayOps', () => {
  it('adds volatile to an overlay mount and leaves other mounts alone', () => {
    const { calls, ops } = recorder();
    const volatile = volatileOverlayOps(ops);
    volatile.mount({ source: 'overlay', target: '/m', fstype: 'overlay', data: 'lowerdir=/l,upperdir=/u,workdir=/w' });
    volatile.mount({ source: '/a', target: '/b', fstype: null, flags: 4096 });
    expect(calls).toEqual([
      { source: 'overlay', target: '/m', fstype: 'overlay', data: 'lowerdir=/l,upperdir=/u,workdir=/w,volatile' },
      { source: '/a', target: '/b', fstype: null, flags: 4096 },
    ]);
  });

  it('mounts without it where the kernel refuses the option (before 5.10), and passes on any other failure', () => {
    const once = recorder(1);
    volatileOverlayOps(once.ops).mount({ source: 'overlay', target: '/m', fstype: 'overlay', data: 'lowerdir=/l' });
    expect(once.calls.map((c) => c.data)).toEqual(['lowerdir=/l,volatile', 'lowerdir=/l']);
    const always = recorder(2);
    expect(() => volatileOverlayOps(always.ops).mount({ source: 'overlay', target: '/m', fstype: 'overlay', data: 'lowerdir=/l' })).toThrow('EINVAL');
  });
});

describe('volatileOverlayOps against the kernel', () => {
  itNeeds({ root: true })('the overlay is mounted volatile, and unmounts and deletes like any other', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isola-volatile-'));
    const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => join(dir, d));
    for (const d of [lower, upper, work, merged]) mkdirSync(d!);
    writeFileSync(join(lower!, 'file'), 'from the image');
    const ops = volatileOverlayOps();
    try {
      ops.mount({ source: 'overlay', target: merged!, fstype: 'overlay', data: `lowerdir=${lower},upperdir=${upper},workdir=${work}` });
      const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === merged);
      expect(line).toMatch(/[ ,](fsync=)?volatile(,|$)/); // 6.18 shows it as fsync=volatile
      expect(readFileSync(join(merged!, 'file'), 'utf8')).toBe('from the image');
      writeFileSync(join(merged!, 'written'), 'by the container');
    } finally {
      ops.umount2(merged!, 0);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(dir);
  });
});
