// Where the cgroup hierarchies are mounted, from the mount table: v2 (one unified hierarchy), v1 (one
// hierarchy per controller or group of co-mounted controllers, plus named ones such as name=systemd) or
// hybrid (v1 controllers plus a cgroup2 hierarchy, usually at /sys/fs/cgroup/unified, that offers only the
// controllers no v1 hierarchy has taken). Pure parsing here; reading the files is in readCgroupMounts()
// and readCgroupHost().
// @isola/doctor reports the same layout, so this is the one copy of the mountinfo parsing.
import { readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';

export type CgroupMode = 'v1' | 'v2' | 'hybrid' | 'none';

export interface CgroupMount {
  mountpoint: string;
  /** The directory of the hierarchy this mount shows, as this process's cgroup namespace sees it. */
  root: string;
  fstype: 'cgroup' | 'cgroup2';
  superOptions: string[];
}

/** The layout as `isola doctor` reports it. */
export interface CgroupDetails {
  mode: CgroupMode;
  /** v1 hierarchies: mount point and the controllers bound to it. */
  v1: Array<{ mountpoint: string; controllers: string[] }>;
  /** The cgroup2 hierarchy, with the controllers it offers (cgroup.controllers). */
  v2: { mountpoint: string; controllers: string[] } | null;
}

/** A v1 hierarchy as the cgroup manager uses it: controller hierarchies and named ones alike. */
export interface V1Hierarchy {
  mountpoint: string;
  controllers: string[];
  /** `systemd` for a `name=systemd` hierarchy; such a hierarchy has no controllers but is joined all the same. */
  name?: string;
}

/** Everything the cgroup manager needs to know about the host. */
export interface CgroupHost {
  mode: CgroupMode;
  v1: V1Hierarchy[];
  v2: { mountpoint: string; controllers: string[] } | null;
}

/** The cgroup and cgroup2 mounts of a /proc/self/mountinfo text. */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    // Optional fields (shared:N, master:N) come before the '-' separator, so fstype is found relative to it.
    const dash = fields.indexOf('-');
    if (dash < 0) continue;
    const fstype = fields[dash + 1];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    mounts.push({ mountpoint: unescapeMountinfo(fields[4]!), root: unescapeMountinfo(fields[3]!), fstype, superOptions: (fields[dash + 3] ?? '').split(',') });
  }
  return mounts;
}

function unescapeMountinfo(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

const NOT_CONTROLLERS = new Set(['rw', 'ro', 'nsdelegate', 'memory_recursiveprot', 'memory_localevents', 'noprefix', 'xattr', 'clone_children', 'cpuset_v2_mode', 'favordynmods']);

function v1Hierarchy(mount: CgroupMount): V1Hierarchy {
  const controllers = mount.superOptions.filter((o) => !NOT_CONTROLLERS.has(o) && !o.startsWith('name=') && !o.startsWith('release_agent='));
  const name = mount.superOptions.find((o) => o.startsWith('name='))?.slice('name='.length);
  return name === undefined ? { mountpoint: mount.mountpoint, controllers } : { mountpoint: mount.mountpoint, controllers, name };
}

function modeOf(v1Controllers: number, hasV2: boolean): CgroupMode {
  if (v1Controllers > 0) return hasV2 ? 'hybrid' : 'v1';
  return hasV2 ? 'v2' : 'none';
}

/** Doctor's view: controller hierarchies only (named hierarchies carry no resources). */
export function cgroupLayout(mounts: CgroupMount[], readControllers: (mountpoint: string) => string[]): CgroupDetails {
  const v1 = mounts
    .filter((m) => m.fstype === 'cgroup')
    .map((m) => ({ mountpoint: m.mountpoint, controllers: v1Hierarchy(m).controllers }))
    .filter((h) => h.controllers.length > 0);
  const unified = mounts.find((m) => m.fstype === 'cgroup2');
  const v2 = unified ? { mountpoint: unified.mountpoint, controllers: readControllers(unified.mountpoint) } : null;
  return { mode: modeOf(v1.length, v2 !== null), v1, v2 };
}

/**
 * The manager's view: every v1 hierarchy once (the same hierarchy can be bind-mounted twice; the first
 * mount wins), named ones included, and the unified hierarchy.
 */
export function cgroupHost(mounts: CgroupMount[], readControllers: (mountpoint: string) => string[]): CgroupHost {
  const v1: V1Hierarchy[] = [];
  const seen = new Set<string>();
  for (const mount of mounts) {
    if (mount.fstype !== 'cgroup') continue;
    const hierarchy = v1Hierarchy(mount);
    const key = hierarchy.name !== undefined ? `name=${hierarchy.name}` : hierarchy.controllers.join(',');
    if (key === '' || seen.has(key)) continue;
    seen.add(key);
    v1.push(hierarchy);
  }
  const unified = mounts.find((m) => m.fstype === 'cgroup2');
  const v2 = unified ? { mountpoint: unified.mountpoint, controllers: readControllers(unified.mountpoint) } : null;
  const controllerHierarchies = v1.filter((h) => h.controllers.length > 0).length;
  return { mode: modeOf(controllerHierarchies, v2 !== null), v1, v2 };
}

/** cgroup.controllers of a cgroup2 directory; empty when it cannot be read. */
export function readControllers(dir: string): string[] {
  try {
    return readFileSync(join(dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

const TMPFS_MAGIC = 0x01021994;
const CGROUP_SUPER_MAGIC = 0x27e0eb;
const CGROUP2_SUPER_MAGIC = 0x63677270;
const CGROUP_BASE = '/sys/fs/cgroup';

/**
 * The cgroup mounts the usual layout implies (the one crun assumes): cgroup2 at /sys/fs/cgroup, or a
 * tmpfs there holding one directory per v1 hierarchy, named for its controllers (`cpu,cpuacct`,
 * `systemd` for name=systemd), plus cgroup2 at /sys/fs/cgroup/unified. `selfCgroup` is
 * /proc/self/cgroup, which names every hierarchy; `fsType` is statfs's f_type of a path, undefined
 * where there is none. Null where any of it does not hold: the caller then reads the mount table.
 * Mount roots are taken to be `/` (a subtree mount goes unseen here; ownCgroupProcs checks).
 */
export function conventionalCgroupMounts(selfCgroup: string, fsType: (path: string) => number | undefined): CgroupMount[] | null {
  // Hierarchy ids follow mount order: sorting by them lists hierarchies as the mount table would.
  const lines = selfCgroup.split('\n').filter(Boolean).map((line) => line.split(':'));
  if (lines.some((fields) => fields.length < 3)) return null;
  const hierarchies = lines.sort((a, b) => (Number(a[0]) || Infinity) - (Number(b[0]) || Infinity)).map((fields) => fields[1]!);
  const base = fsType(CGROUP_BASE);
  if (base === CGROUP2_SUPER_MAGIC) {
    return hierarchies.every((h) => h === '') ? [{ mountpoint: CGROUP_BASE, root: '/', fstype: 'cgroup2', superOptions: ['rw'] }] : null;
  }
  if (base !== TMPFS_MAGIC) return null;
  const mounts: CgroupMount[] = [];
  for (const h of hierarchies) {
    const mountpoint = join(CGROUP_BASE, h === '' ? 'unified' : h.replace(/^name=/, ''));
    if (fsType(mountpoint) !== (h === '' ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC)) return null;
    mounts.push({ mountpoint, root: '/', fstype: h === '' ? 'cgroup2' : 'cgroup', superOptions: h === '' ? ['rw'] : ['rw', ...h.split(',')] });
  }
  return mounts;
}

/**
 * The cgroup mounts, from /proc/self/cgroup and statfs where the layout is the usual one: reading
 * /proc/self/mountinfo instead costs ~2.4 ms of CPU on a host with a few hundred overlay and shm mounts
 * (a container host's normal state; measured here), and create and delete each needed it.
 */
export function readCgroupMounts(): CgroupMount[] {
  const fsType = (path: string): number | undefined => {
    try {
      return Number(statfsSync(path).type);
    } catch {
      return undefined;
    }
  };
  try {
    const conventional = conventionalCgroupMounts(readFileSync('/proc/self/cgroup', 'utf8'), fsType);
    if (conventional) return conventional;
  } catch {
    // no /proc/self/cgroup: the mount table tells
  }
  return parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** This host's cgroup hierarchies: from the given mount table, else as readCgroupMounts finds them. */
export function readCgroupHost(mountinfoPath?: string): CgroupHost {
  const mounts = mountinfoPath === undefined ? readCgroupMounts() : parseCgroupMounts(readFileSync(mountinfoPath, 'utf8'));
  return cgroupHost(mounts, readControllers);
}

/** Where a resource controller lives: the v1 hierarchy bound to it, else the unified hierarchy if it offers it. */
export function locateController(host: CgroupHost, controller: string): { version: 1; mountpoint: string } | { version: 2; mountpoint: string } | null {
  const v1 = host.v1.find((h) => h.controllers.includes(controller));
  if (v1) return { version: 1, mountpoint: v1.mountpoint };
  if (host.v2 && host.v2.controllers.includes(controller)) return { version: 2, mountpoint: host.v2.mountpoint };
  return null;
}
