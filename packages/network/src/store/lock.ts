// One lock for all of a root's networks: flock(2) on <root>/networks/.lock. The kernel drops it when
// its holder dies, so a crashed isola leaves nothing stale. Waiting sleeps the thread (the operations
// it guards are synchronous), with a deadline and a clear message instead of hanging forever.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { IsolaError } from '@isola/errors';
import { abi, flock } from '@isola/sys';

const pause = new Int32Array(new SharedArrayBuffer(4));
/** Locks this process holds now: taking one again nests instead of waiting for itself. */
const held = new Set<string>();

export function withLock<T>(path: string, fn: () => T, timeoutMs = 30_000): T {
  if (held.has(path)) return fn();
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'a', 0o600);
  try {
    const deadline = Date.now() + timeoutMs;
    for (let wait = 1; !flock(fd, abi.LOCK_EX, true); wait = Math.min(wait * 2, 50)) {
      if (Date.now() > deadline) throw new IsolaError('ELOCKED', `timed out after ${timeoutMs / 1000} s waiting for the lock ${JSON.stringify(path)} (another isola is changing networks)`);
      Atomics.wait(pause, 0, 0, wait);
    }
    held.add(path);
    try {
      return fn();
    } finally {
      held.delete(path);
    }
  } finally {
    closeSync(fd); // releases the lock
  }
}
