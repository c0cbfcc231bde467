// cgroup mode from the mount table: v2 (one unified hierarchy at /sys/fs/cgroup), v1 (one hierarchy per
// controller) or hybrid (v1 controllers plus a cgroup2 hierarchy, usually at /sys/fs/cgroup/unified).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Check, check } from '../check.js';

export type CgroupMode = 'v1' | 'v2' | 'hybrid' | 'none';

export interface CgroupDetails {
  mode: CgroupMode;
  /** v1 hierarchies: mount point and the controllers bound to it. */
  v1: Array<{ mountpoint: string; controllers: string[] }>;
  /** The cgroup2 hierarchy, with the controllers it offers (cgroup.controllers). */
  v2: { mountpoint: string; controllers: string[] } | null;
}

interface CgroupMount {
  mountpoint: string;
  fstype: 'cgroup' | 'cgroup2';
  superOptions: string[];
}

/** The cgroup and cgroup2 mounts of a /proc/self/mountinfo text. */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 0) continue;
    const fstype = fields[dash + 1];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    mounts.push({ mountpoint: unescapeMountinfo(fields[4]!), fstype, superOptions: (fields[dash + 3] ?? '').split(',') });
  }
  return mounts;
}

function unescapeMountinfo(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

const NOT_CONTROLLERS = new Set(['rw', 'ro', 'nsdelegate', 'memory_recursiveprot', 'noprefix', 'xattr', 'clone_children', 'cpuset_v2_mode', 'favordynmods']);

export function cgroupLayout(mounts: CgroupMount[], readControllers: (mountpoint: string) => string[]): CgroupDetails {
  const v1 = mounts
    .filter((m) => m.fstype === 'cgroup')
    .map((m) => ({
      mountpoint: m.mountpoint,
      controllers: m.superOptions.filter((o) => !NOT_CONTROLLERS.has(o) && !o.startsWith('name=') && !o.startsWith('release_agent=')),
    }))
    .filter((h) => h.controllers.length > 0);
  const unified = mounts.find((m) => m.fstype === 'cgroup2');
  const v2 = unified ? { mountpoint: unified.mountpoint, controllers: readControllers(unified.mountpoint) } : null;
  const mode: CgroupMode = v1.length > 0 ? (v2 ? 'hybrid' : 'v1') : v2 ? 'v2' : 'none';
  return { mode, v1, v2 };
}

export function describeCgroups(details: CgroupDetails): string {
  const parts: string[] = [details.mode];
  if (details.v1.length > 0) parts.push(`v1: ${details.v1.flatMap((h) => h.controllers).join(' ')}`);
  if (details.v2) parts.push(`v2 at ${details.v2.mountpoint}: ${details.v2.controllers.join(' ') || '(no controllers)'}`);
  return parts.join('; ');
}

export function probeCgroups(mountinfoPath = '/proc/self/mountinfo'): Check<CgroupDetails> {
  const details = cgroupLayout(parseCgroupMounts(readFileSync(mountinfoPath, 'utf8')), (mountpoint) => {
    try {
      return readFileSync(join(mountpoint, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch {
      return [];
    }
  });
  if (details.mode === 'none') return check('missing', true, 'no cgroup filesystem is mounted', details);
  return check('ok', true, describeCgroups(details), details);
}
