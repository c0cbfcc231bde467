// The device cgroup rules a container gets: the spec's own, then allow rules for the devices every
// container needs (runc's AllowedDevices), so that a spec that denies all still has /dev/null.
import type { DeviceCgroupRule, Spec } from '../spec/types.js';
import { DEFAULT_DEVICES } from '../rootfs/plan.js';

const ALWAYS: DeviceCgroupRule[] = [
  { allow: true, type: 'c', access: 'm' }, // mknod of any char device (use still needs a rule)
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // /dev/console
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // /dev/net/tun
];

export function deviceRules(spec: Spec): DeviceCgroupRule[] {
  const devices = [...DEFAULT_DEVICES, ...(spec.linux?.devices ?? [])];
  const created: DeviceCgroupRule[] = devices
    .filter((d) => d.type === 'c' || d.type === 'b' || d.type === 'u')
    .map((d) => ({ allow: true, type: d.type === 'b' ? 'b' : 'c', major: d.major, minor: d.minor, access: 'rwm' }));
  return [...(spec.linux?.resources?.devices ?? []), ...ALWAYS, ...created];
}
