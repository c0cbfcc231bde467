// Persistent network namespaces, like `ip netns add|del`: a namespace made by unshare(CLONE_NEWNET) on
// Node's main thread, kept alive by a bind mount of /proc/thread-self/ns/net on a file, after which the
// thread goes back to where it was. The engine hands the path to the OCI spec
// (`namespaces: [{type: "network", path}]`), as podman does.
//
// Only the main thread changes namespace (MACHINE.md), and only for the length of a synchronous call:
// everything that must happen "in" a namespace here is synchronous (netlink, sysctl writes, spawnSync).
import { closeSync, mkdirSync, openSync, rmSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { IsolaError } from '@isola/errors';
import { abi, close, gettid, mount, open, setns, umount2, unshare } from '@isola/sys';

function assertMainThread(what: string): void {
  if (gettid() !== process.pid) throw new IsolaError('ENOTMAIN', `${what} must run on the main thread (setns affects only the calling thread)`);
}

/** Creates a network namespace bound at `path` (the file must not exist); returns `path`. */
export function createNetns(path: string): string {
  assertMainThread(`creating network namespace ${JSON.stringify(path)}`);
  mkdirSync(dirname(path), { recursive: true });
  try {
    closeSync(openSync(path, 'wx', 0o444));
  } catch (error) {
    throw new IsolaError('EEXIST', `network namespace ${JSON.stringify(path)}: ${(error as NodeJS.ErrnoException).code === 'EEXIST' ? 'already exists' : (error as Error).message}`, { cause: error });
  }
  const home = open('/proc/thread-self/ns/net', abi.O_RDONLY);
  let bound = false;
  try {
    unshare(abi.CLONE_NEWNET);
    try {
      mount({ source: `/proc/self/task/${gettid()}/ns/net`, target: path, flags: abi.MS_BIND });
      bound = true;
    } finally {
      setns(home, abi.CLONE_NEWNET, 'the original network namespace');
    }
    return path;
  } catch (error) {
    if (bound) umount2(path, abi.MNT_DETACH);
    rmSync(path, { force: true });
    throw new IsolaError('ENETNS', `create network namespace ${JSON.stringify(path)}`, { cause: error });
  } finally {
    close(home);
  }
}

/** Removes a namespace made by createNetns (umount + unlink); the namespace dies with its last user. */
export function removeNetns(path: string): void {
  try {
    umount2(path, abi.MNT_DETACH);
  } catch (error) {
    // Not mounted (a half-made namespace, or removed already): the file is all that is left.
    if ((error as { errno?: number }).errno !== 22 /* EINVAL */ && (error as { errno?: number }).errno !== 2 /* ENOENT */) throw error;
  }
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * Runs `fn` with the main thread in the network namespace at `path` (undefined: where it is now), and
 * brings it back afterwards. `fn` must be synchronous: anything it leaves for later runs elsewhere.
 */
export function withNetns<T>(path: string | undefined, fn: () => T): T {
  if (path === undefined) return fn();
  assertMainThread(`entering network namespace ${JSON.stringify(path)}`);
  const home = open('/proc/thread-self/ns/net', abi.O_RDONLY);
  try {
    const target = openNetns(path);
    try {
      setns(target, abi.CLONE_NEWNET, path);
    } finally {
      close(target);
    }
    try {
      const result = fn();
      if (result instanceof Promise) throw new IsolaError('EINVAL', 'withNetns runs synchronous functions only');
      return result;
    } finally {
      setns(home, abi.CLONE_NEWNET, 'the original network namespace');
    }
  } finally {
    close(home);
  }
}

/** An fd of the namespace at `path`, with a clear error when it is not one. */
export function openNetns(path: string): number {
  try {
    return open(path, abi.O_RDONLY);
  } catch (error) {
    throw new IsolaError('ENETNS', `network namespace ${JSON.stringify(path)} does not exist`, { cause: error });
  }
}
