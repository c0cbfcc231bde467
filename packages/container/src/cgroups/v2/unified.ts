// linux.resources.unified: raw "file": "value" pairs for the cgroup v2 hierarchy. The spec says unknown
// keys must still be written, and that a key whose controller is missing or cannot be enabled is an
// error; the manager enables the controllers this module names before set() runs.
import { IsolaError } from '@isola/errors';
import type { LinuxResources } from '../../spec/types.js';
import { type CgroupDir, invalidValue } from '../dir.js';

const F = 'linux.resources.unified';

/** The controller a unified key belongs to (`memory.high` → memory); `cgroup.*` keys belong to the core. */
export function controllerOfKey(key: string): string | undefined {
  const prefix = key.split('.')[0]!;
  return prefix === 'cgroup' ? undefined : prefix;
}

/** The controllers the unified keys need, after checking every key is a plain file name. */
export function unifiedControllers(r: LinuxResources): string[] {
  const keys = Object.keys(r.unified ?? {});
  for (const key of keys) {
    // A key is a file name in the cgroup's own directory, never a path.
    if (key.includes('/') || key === '.' || key === '..' || key === '') throw invalidValue(`${F}[${JSON.stringify(key)}]`, 'is not a cgroup interface file name');
  }
  return [...new Set(keys.flatMap((k) => controllerOfKey(k) ?? []))];
}

/** Write the keys; call unifiedControllers() first, which vets them. */
export function setUnified(dir: CgroupDir, r: LinuxResources): void {
  for (const [key, value] of Object.entries(r.unified ?? {})) {
    if (!dir.exists(key)) {
      throw new IsolaError('ECGROUP_UNSUPPORTED', `${F}[${JSON.stringify(key)}]: ${dir.file(key)} does not exist`, { details: { field: F, key } });
    }
    dir.write(key, value, `${F}[${JSON.stringify(key)}]`);
  }
}
