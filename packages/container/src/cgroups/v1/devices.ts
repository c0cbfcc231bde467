// The v1 devices controller: each rule is one line written to devices.allow or devices.deny, in the
// order config.json lists them. For the usual list (deny everything, then allow a few devices) that is
// exactly the spec's "last matching rule wins"; runc replays the same transitions through an emulator to
// also cope with lists that re-allow after a narrower deny, which we do not need yet.
import type { DeviceCgroupRule, LinuxResources } from '../../spec/types.js';
import type { Controller } from '../controller.js';
import type { CgroupDir } from '../dir.js';

const F = 'linux.resources.devices';

/** `c 1:3 rwm`, `a *:* rwm`: the kernel's rule syntax, with the spec's defaults for missing fields. */
export function deviceRuleLine(rule: DeviceCgroupRule): string {
  const type = rule.type ?? 'a';
  const major = rule.major === undefined || rule.major < 0 ? '*' : String(rule.major);
  const minor = rule.minor === undefined || rule.minor < 0 ? '*' : String(rule.minor);
  return `${type} ${major}:${minor} ${rule.access || 'rwm'}`;
}

export const devices: Controller = {
  name: 'devices',
  field: F,
  wanted: (r: LinuxResources) => (r.devices?.length ?? 0) > 0,

  set(dir: CgroupDir, r: LinuxResources): void {
    for (const [i, rule] of (r.devices ?? []).entries()) {
      dir.write(rule.allow ? 'devices.allow' : 'devices.deny', deviceRuleLine(rule), `${F}[${i}]`);
    }
  },
};
