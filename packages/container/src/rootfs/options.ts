// Mount options as config.json spells them (`nosuid`, `ro`, `rbind`, `mode=755`) → mount(2) flags,
// propagation and the data string, as runc maps them.
import { abi } from '@isola/sys';

export interface MountOptions {
  flags: number;
  /** Flags to clear (e.g. `rw`, `suid`); they only matter for bind remounts. */
  clear: number;
  propagation: number;
  bind: boolean;
  recursive: boolean;
  data: string[];
}

const SET: Record<string, number> = {
  ro: abi.MS_RDONLY, nosuid: abi.MS_NOSUID, nodev: abi.MS_NODEV, noexec: abi.MS_NOEXEC, sync: abi.MS_SYNCHRONOUS,
  dirsync: abi.MS_DIRSYNC, remount: abi.MS_REMOUNT, mand: abi.MS_MANDLOCK, noatime: abi.MS_NOATIME,
  nodiratime: abi.MS_NODIRATIME, relatime: abi.MS_RELATIME, strictatime: abi.MS_STRICTATIME, nosymfollow: abi.MS_NOSYMFOLLOW,
};
const CLEAR: Record<string, number> = {
  rw: abi.MS_RDONLY, suid: abi.MS_NOSUID, dev: abi.MS_NODEV, exec: abi.MS_NOEXEC, async: abi.MS_SYNCHRONOUS,
  nomand: abi.MS_MANDLOCK, atime: abi.MS_NOATIME, diratime: abi.MS_NODIRATIME, norelatime: abi.MS_RELATIME,
  nostrictatime: abi.MS_STRICTATIME, symfollow: abi.MS_NOSYMFOLLOW,
};
const PROPAGATION: Record<string, number> = {
  private: abi.MS_PRIVATE, rprivate: abi.MS_PRIVATE | abi.MS_REC, shared: abi.MS_SHARED, rshared: abi.MS_SHARED | abi.MS_REC,
  slave: abi.MS_SLAVE, rslave: abi.MS_SLAVE | abi.MS_REC, unbindable: abi.MS_UNBINDABLE, runbindable: abi.MS_UNBINDABLE | abi.MS_REC,
};
/** Options that mean something to other tools (podman, containerd) but nothing to mount(2). */
const IGNORED = new Set(['tmpcopyup', 'notmpcopyup', 'copy-symlink', 'idmap', 'ridmap', 'z', 'Z', 'U', 'defaults']);

export function parseMountOptions(options: readonly string[] = []): MountOptions {
  const result: MountOptions = { flags: 0, clear: 0, propagation: 0, bind: false, recursive: false, data: [] };
  for (const option of options) {
    if (option === 'bind' || option === 'rbind') {
      result.bind = true;
      result.recursive ||= option === 'rbind';
    } else if (option in SET) {
      result.flags |= SET[option]!;
      result.clear &= ~SET[option]!;
    } else if (option in CLEAR) {
      result.flags &= ~CLEAR[option]!;
      result.clear |= CLEAR[option]!;
    } else if (option in PROPAGATION) {
      result.propagation = PROPAGATION[option]!;
    } else if (!IGNORED.has(option)) {
      result.data.push(option);
    }
  }
  return result;
}

/** The propagation flags of linux.rootfsPropagation (default: rslave, so host mounts reach in but none leak out). */
export function rootfsPropagation(value: string | undefined): number {
  if (!value) return abi.MS_SLAVE | abi.MS_REC;
  return PROPAGATION[value] ?? abi.MS_SLAVE | abi.MS_REC;
}
