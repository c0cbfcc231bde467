// cgroup mode from the mount table: v2 (one unified hierarchy at /sys/fs/cgroup), v1 (one hierarchy per
// controller) or hybrid (v1 controllers plus a cgroup2 hierarchy, usually at /sys/fs/cgroup/unified).
// The mountinfo parsing is the container runtime's (@isola/container cgroups/mounts.ts), so doctor reports
// exactly the layout the runtime will use.
import { readFileSync } from 'node:fs';
import { cgroupLayout, parseCgroupMounts, readControllers, type CgroupDetails } from '@isola/container';
import { type Check, check } from '../check.js';

export { cgroupLayout, parseCgroupMounts };
export type { CgroupDetails, CgroupMode } from '@isola/container';

export function describeCgroups(details: CgroupDetails): string {
  const parts: string[] = [details.mode];
  if (details.v1.length > 0) parts.push(`v1: ${details.v1.flatMap((h) => h.controllers).join(' ')}`);
  if (details.v2) parts.push(`v2 at ${details.v2.mountpoint}: ${details.v2.controllers.join(' ') || '(no controllers)'}`);
  return parts.join('; ');
}

export function probeCgroups(mountinfoPath = '/proc/self/mountinfo'): Check<CgroupDetails> {
  const details = cgroupLayout(parseCgroupMounts(readFileSync(mountinfoPath, 'utf8')), readControllers);
  if (details.mode === 'none') return check('missing', true, 'no cgroup filesystem is mounted', details);
  return check('ok', true, describeCgroups(details), details);
}
