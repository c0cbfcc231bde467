// The v2 freezer is part of the core: cgroup.freeze requests, and cgroup.events' `frozen` line reports
// when every task has actually stopped.
import { setTimeout as sleep } from 'node:timers/promises';
import { IsolaError } from '@isola/errors';
import type { FreezerState } from '../controller.js';
import type { CgroupDir } from '../dir.js';


export function freezerState(dir: CgroupDir): FreezerState {
  if (dir.read('cgroup.freeze') !== '1') return 'thawed';
  return dir.readKeyed('cgroup.events').frozen === 1 ? 'frozen' : 'freezing';
}

export async function setFrozen(dir: CgroupDir, frozen: boolean, timeoutMs = 2000): Promise<void> {
  dir.write('cgroup.freeze', frozen ? 1 : 0);
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    if ((dir.readKeyed('cgroup.events').frozen === 1) === frozen) return;
    if (Date.now() > deadline) break;
    await sleep(Math.min(1 + attempt, 10));
  }
  if (frozen) dir.tryWrite('cgroup.freeze', 0);
  throw new IsolaError('ECGROUP_FREEZE', `${frozen ? 'freeze' : 'thaw'} ${dir.path}: cgroup.events did not report it after ${timeoutMs} ms`, {
    details: { path: dir.file('cgroup.events') },
  });
}
