// mount, umount2 and pivot_root, with messages that name the source, target and flags.
import * as c from '../abi/constants.js';
import { check, q } from '../errors.js';
import { libc } from '../libc.js';

const FLAG_NAMES: Array<[number, string]> = [
  [c.MS_RDONLY, 'ro'], [c.MS_NOSUID, 'nosuid'], [c.MS_NODEV, 'nodev'], [c.MS_NOEXEC, 'noexec'],
  [c.MS_SYNCHRONOUS, 'sync'], [c.MS_REMOUNT, 'remount'], [c.MS_MANDLOCK, 'mand'], [c.MS_DIRSYNC, 'dirsync'],
  [c.MS_NOSYMFOLLOW, 'nosymfollow'], [c.MS_NOATIME, 'noatime'], [c.MS_NODIRATIME, 'nodiratime'], [c.MS_BIND, 'bind'],
  [c.MS_MOVE, 'move'], [c.MS_REC, 'rec'], [c.MS_SILENT, 'silent'], [c.MS_UNBINDABLE, 'unbindable'],
  [c.MS_PRIVATE, 'private'], [c.MS_SLAVE, 'slave'], [c.MS_SHARED, 'shared'], [c.MS_RELATIME, 'relatime'],
  [c.MS_STRICTATIME, 'strictatime'],
];

export function describeMountFlags(flags: number): string {
  return FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name).join(',');
}

export interface MountArgs {
  source?: string | null;
  target: string;
  fstype?: string | null;
  flags?: number;
  data?: string | null;
}

export function mount({ source = null, target, fstype = null, flags = 0, data = null }: MountArgs): void {
  check(libc.mount(source, target, fstype, flags, data), 'mount', () => {
    let args = `${q(source ?? fstype ?? 'none')} on ${q(target)}`;
    if (fstype && fstype !== source) args += `, type ${fstype}`;
    if (flags) args += `, ${describeMountFlags(flags)}`;
    if (data) args += `, ${q(data)}`;
    return args;
  });
}

export function umount2(target: string, flags = 0): void {
  check(libc.umount2(target, flags), 'umount2', () => q(target) + (flags ? `, ${flags}` : ''));
}

export function pivotRoot(newRoot: string, putOld: string): void {
  check(libc.syscall2s(c.SYS_pivot_root, newRoot, putOld), 'pivot_root', () => `${q(newRoot)}, ${q(putOld)}`);
}
