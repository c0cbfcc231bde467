// Moving a process into a cgroup (a write to cgroup.procs) takes the kernel's global
// cgroup_threadgroup_rwsem for writing. When no move happened in the last RCU grace period, that first
// waits for one (rcu_sync_enter): 5-35 ms measured here, the largest part of `create`, and paid again
// by every runtime (runc and crun wait for it too). Once it has passed, moves stay fast for about
// another grace period. So `create` first moves this process into the cgroup it is already in (the
// kernel takes the lock, finds nothing to move and changes nothing), on a libuv pool thread: the wait
// then overlaps with planning the container and cloning its process, and the real move finds it done.
import { closeSync, openSync, readFileSync, write } from 'node:fs';
import { join } from 'node:path';
import { type CgroupMount, readCgroupMounts } from './mounts.js';

/**
 * The cgroup.procs file of this process's own cgroup, preferring the cgroup2 hierarchy, or null when it
 * cannot be placed with certainty (a mount that shows another part of the hierarchy than ours).
 * `selfCgroup` is /proc/self/cgroup: `0::/path` for cgroup2, `N:cpu,cpuacct:/path` for v1.
 */
export function ownCgroupProcs(mounts: readonly CgroupMount[], selfCgroup: string): string | null {
  const lines = selfCgroup.split('\n').filter(Boolean).map((line) => {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    return { controllers: line.slice(first + 1, second), path: line.slice(second + 1) };
  });
  const candidates: Array<{ mount: CgroupMount | undefined; path: string }> = [];
  for (const { controllers, path } of lines) {
    if (controllers === '') candidates.unshift({ mount: mounts.find((m) => m.fstype === 'cgroup2'), path });
    else {
      const wanted = controllers.split(',');
      const mount = mounts.find((m) => m.fstype === 'cgroup' && wanted.every((c) => m.superOptions.includes(c)));
      candidates.push({ mount, path });
    }
  }
  for (const { mount, path } of candidates) {
    if (!mount || !path.startsWith('/')) continue;
    // Paths in /proc/self/cgroup and mount roots are both relative to our cgroup namespace; a path
    // outside it reads /../x, and a mount of a subtree we are not in cannot hold us.
    const root = mount.root === '/' ? '' : mount.root;
    if (path.includes('/..') || (root && path !== root && !path.startsWith(`${root}/`))) continue;
    return join(mount.mountpoint, path.slice(root.length), 'cgroup.procs');
  }
  return null;
}

/**
 * Starts the grace-period wait early (see above) and returns at once; never throws. `mounts` are the
 * host's cgroup mounts (readCgroupMounts). Errors (a read-only
 * cgroupfs, a rootless runtime that may not write there) only mean the real move waits as before. The
 * promise, which callers need not await, tells once the kernel has answered whether the write went in.
 */
export function primeAttach(mounts: readonly CgroupMount[] = readCgroupMounts()): Promise<boolean> {
  let fd: number;
  try {
    const procs = ownCgroupProcs(mounts, readFileSync('/proc/self/cgroup', 'utf8'));
    // Only the cgroup that lists this process is certainly its own (a pid is in one per hierarchy), so
    // only there is the move a no-op, whatever the mounts show.
    if (!procs || !readFileSync(procs, 'utf8').split('\n').includes(String(process.pid))) return Promise.resolve(false);
    fd = openSync(procs, 'r+');
  } catch {
    return Promise.resolve(false);
  }
  // One pool-thread operation (opened and closed here), so the write starts now and not at the event
  // loop's next turn: the caller keeps the main thread busy until its own move.
  return new Promise((done) =>
    write(fd, String(process.pid), (error) => {
      closeSync(fd);
      done(!error);
    }),
  );
}
