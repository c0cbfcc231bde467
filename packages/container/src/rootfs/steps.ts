// Small builders for the child's rootfs steps that resolve paths inside the container root with
// openat2(RESOLVE_IN_ROOT), so no symlink in an untrusted rootfs can point a mount outside it.
import { abi, slot, type Step } from '@isola/sys';

/** Slots the rootfs steps use: the root itself, the current target, a scratch directory. */
export const ROOT_SLOT = 0;
export const TARGET_SLOT = 1;
export const DIR_SLOT = 2;

function openHow(flags: number, resolve: number): Uint8Array {
  const how = new Uint8Array(24); // struct open_how { u64 flags; u64 mode; u64 resolve; }
  const view = new DataView(how.buffer);
  view.setBigUint64(0, BigInt(flags), true);
  view.setBigUint64(16, BigInt(resolve), true);
  return how;
}

/** openat2(root, path, O_PATH, RESOLVE_IN_ROOT) into `saveTo`; `noSymlinks` refuses any symlink on the way. */
export function openInRoot(path: string, saveTo: number, directory = false, noSymlinks = false): Step {
  const flags = abi.O_PATH | abi.O_CLOEXEC | (directory ? abi.O_DIRECTORY : 0);
  const resolve = abi.RESOLVE_IN_ROOT | abi.RESOLVE_NO_MAGICLINKS | (noSymlinks ? abi.RESOLVE_NO_SYMLINKS : 0);
  return {
    syscall: 'openat2',
    args: [slot(ROOT_SLOT), path, openHow(flags, resolve), 24],
    describe: `open ${JSON.stringify(path)} in the container root`,
    saveTo,
  };
}

/**
 * Pins `path` inside the root at a fixed fd number, so that mount(2) can name it as /proc/self/fd/N:
 * whatever happens to the path afterwards, the mount lands on what was opened.
 */
export function pinTarget(path: string, fixedFd: number): Step[] {
  return [
    openInRoot(path, TARGET_SLOT),
    { syscall: 'dup3', args: [slot(TARGET_SLOT), fixedFd, abi.O_CLOEXEC], describe: `dup3(${path} → ${fixedFd})` },
    { syscall: 'close', args: [slot(TARGET_SLOT)], describe: `close(${path})` },
  ];
}

/** mkdir (or create an empty file) at `path` inside the root, when its parent is a mount isola just made. */
export function createInRoot(path: string, kind: 'dir' | 'file'): Step[] {
  const parent = path.slice(0, path.lastIndexOf('/')) || '/';
  const name = path.slice(path.lastIndexOf('/') + 1);
  const create: Step =
    kind === 'dir'
      ? { syscall: 'mkdirat', args: [slot(DIR_SLOT), name, 0o755], describe: `mkdir ${path}`, ignoreFailure: true }
      : { syscall: 'openat', args: [slot(DIR_SLOT), name, abi.O_CREAT | abi.O_WRONLY | abi.O_CLOEXEC, 0o644], describe: `create ${path}`, ignoreFailure: true };
  return [openInRoot(parent, DIR_SLOT, true), create, { syscall: 'close', args: [slot(DIR_SLOT)], describe: `close(${parent})` }];
}

export function mountStep(source: string | null, target: string, fstype: string | null, flags: number, data: string | null, describe: string): Step {
  return { syscall: 'mount', args: [source, target, fstype, flags, data], describe };
}

