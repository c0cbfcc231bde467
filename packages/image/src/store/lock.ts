// The store's lock: one file, created with O_EXCL, holding the owner's pid and start time. Two isola
// processes serialize their metadata changes (tags, image records, GC) through it. Node has no
// flock(2) and @isola/sys does not bind it yet; an O_EXCL file works on every local filesystem and
// says who holds it, which makes "locked by pid 1234" messages possible.
//
// A lock whose owner died (crash, SIGKILL) is stale: the pid is gone, or reused by a process with
// another start time. It is broken by renaming it away (only one contender can win that rename) and
// checking that what was renamed is still the stale owner's; a live lock renamed by mistake is put
// back with link(2), which never replaces.
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { AsyncLocalStorage } from 'node:async_hooks';
import { procStartTime } from '@isola/sys/proc';
import { ImageError, describeFsError, errnoCode, fsErrorDetails } from '../errors.js';

export interface LockOptions {
  /** How long to wait for another process before giving up; 60 s by default. */
  timeoutMs?: number;
}

/** Field 22 of /proc/<pid>/stat: the process start time in clock ticks, or undefined if it is gone or a zombie. */
function startTime(pid: number): string | undefined {
  // A zombie holds nothing: its owner has exited, only its parent has not reaped it.
  return procStartTime(pid)?.toString();
}

export function ownerToken(pid = process.pid): string {
  return `${pid} ${startTime(pid) ?? '?'}\n`;
}

/** Whether the process named by a lock file's content is still the one that wrote it. */
export function isLiveOwner(token: string): boolean {
  const [pidText, started] = token.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const now = startTime(pid);
  return now !== undefined && (started === '?' || now === started);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class StoreLock {
  /** Marks the async call chain that holds the lock, so calls from inside `with` do not wait on themselves. */
  private readonly holder = new AsyncLocalStorage<boolean>();
  /** In-process queue: async callers in one process take turns before touching the file. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  /** Runs `fn` holding the lock; re-entrant for calls made from inside `fn`. */
  async with<T>(fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    if (this.holder.getStore() === true) return fn();
    const run = this.queue.then(async () => {
      await this.acquire(options.timeoutMs ?? 60_000);
      try {
        return await this.holder.run(true, fn);
      } finally {
        await this.release();
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async acquire(timeoutMs: number): Promise<void> {
    const token = ownerToken();
    const deadline = Date.now() + timeoutMs;
    let wait = 2;
    for (;;) {
      try {
        const file = await open(this.path, 'wx', 0o644);
        try {
          await file.writeFile(token);
        } finally {
          await file.close();
        }
        return;
      } catch (error) {
        if (errnoCode(error) !== 'EEXIST') {
          throw new ImageError('EIMAGE_STORE', `lock the image store: ${describeFsError(error)}`, { details: { ...fsErrorDetails(error), path: this.path } });
        }
      }
      const holder = await readFile(this.path, 'utf8').catch(() => undefined);
      // Empty: the owner is between open and write; wait rather than judge it.
      if (holder !== undefined && holder !== '' && !isLiveOwner(holder)) {
        await this.breakStale(holder);
        continue;
      }
      if (Date.now() > deadline) {
        throw new ImageError('EIMAGE_LOCKED', `image store lock ${this.path} is held by pid ${holder?.split(' ')[0] ?? '?'}; gave up after ${Math.round(timeoutMs / 1000)} s`, {
          details: { path: this.path, holder },
        });
      }
      await sleep(wait);
      wait = Math.min(wait * 2, 50);
    }
  }

  private async breakStale(stale: string): Promise<void> {
    const aside = `${this.path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await rename(this.path, aside);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return; // someone else broke it first
      throw error;
    }
    const moved = await readFile(aside, 'utf8').catch(() => '');
    if (moved !== stale && isLiveOwner(moved)) {
      // We took a lock that a contender had just created: give it back (link never replaces).
      await link(aside, this.path).catch(() => undefined);
    }
    await unlink(aside).catch(() => undefined);
  }

  private async release(): Promise<void> {
    try {
      await unlink(this.path);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
  }
}
