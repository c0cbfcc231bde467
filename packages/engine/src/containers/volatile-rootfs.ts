// The overlay of a --rm container is mounted `volatile`, as podman mounts its --rm containers'.
// Without it, the kernel syncs the whole filesystem under the overlay's upper directory when the last
// mount of the overlay goes (ovl_sync_fs: the store's ext4, with everyone's dirty pages on it), and the
// last mount goes with the container's mount namespace, at its init's exit: 50-700 ms measured here
// between the init's exit_group and its parent's SIGCHLD, in every `run --rm`. An upper layer that is
// deleted right afterwards needs no durability. After a crash overlayfs refuses to remount a volatile
// upper (work/incompat/volatile), and nothing ever remounts a --rm container's.
import type { MountOps } from '@isola/image';
import { type MountArgs, mount, umount2 } from '@isola/sys';

/** Mount operations that add `volatile` to an overlay mount, and mount without it on a kernel older than 5.10. */
export function volatileOverlayOps(ops: MountOps = { mount, umount2 }): MountOps {
  return {
    mount(args: MountArgs) {
      if (args.fstype !== 'overlay') return ops.mount(args);
      try {
        ops.mount({ ...args, data: args.data ? `${args.data},volatile` : 'volatile' });
      } catch {
        ops.mount(args); // an unknown option: EINVAL before 5.10; any other failure comes back from this one
      }
    },
    umount2: (target: string, flags?: number) => ops.umount2(target, flags),
  };
}
