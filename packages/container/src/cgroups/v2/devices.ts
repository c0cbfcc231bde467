// Devices on cgroup v2 are controlled by an eBPF program attached to the cgroup (BPF_CGROUP_DEVICE), not
// by files. Until isola can build and attach one, only rule lists that restrict nothing are accepted:
// anything else fails loudly, because silently running a container with every device open would be a
// security hole.
import type { DeviceCgroupRule, LinuxResources } from '../../spec/types.js';
import type { Controller } from '../controller.js';
import { unsupported } from '../dir.js';

const F = 'linux.resources.devices';

/** "allow everything" with no type, major or minor narrowing it: what a v2 cgroup does without a program. */
function allowsAll(rule: DeviceCgroupRule): boolean {
  const access = rule.access ?? 'rwm';
  return rule.allow && (rule.type ?? 'a') === 'a' && (rule.major ?? -1) < 0 && (rule.minor ?? -1) < 0 && ['r', 'w', 'm'].every((c) => access.includes(c));
}

export const devices: Controller = {
  name: 'devices',
  field: F,
  wanted: (r: LinuxResources) => (r.devices?.length ?? 0) > 0,

  set(_dir, r: LinuxResources): void {
    const index = (r.devices ?? []).findIndex((rule) => !allowsAll(rule));
    if (index >= 0) throw unsupported(`${F}[${index}]`, 'device rules are not supported on cgroup v2 yet (they need an eBPF device program)');
  },
};
