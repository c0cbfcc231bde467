// The v1 freezer: freezer.state goes THAWED → FREEZING → FROZEN. Freezing can stall while a task is in
// an uninterruptible sleep, so like runc we re-request FROZEN while waiting and give up (thawing again,
// so nothing is left half-frozen) after a deadline.
import { setTimeout as sleep } from 'node:timers/promises';
import { IsolaError } from '@isola/errors';
import type { FreezerState } from '../controller.js';
import type { CgroupDir } from '../dir.js';


const FILE = 'freezer.state';

export function freezerState(dir: CgroupDir): FreezerState {
  const state = dir.read(FILE);
  if (state === 'FROZEN') return 'frozen';
  if (state === 'FREEZING') return 'freezing';
  return 'thawed';
}

export async function setFrozen(dir: CgroupDir, frozen: boolean, timeoutMs = 2000): Promise<void> {
  const want = frozen ? 'FROZEN' : 'THAWED';
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    if (attempt % 10 === 0) dir.write(FILE, want);
    if (dir.read(FILE) === want) return;
    if (Date.now() > deadline) break;
    await sleep(Math.min(1 + attempt, 10));
  }
  if (frozen) dir.tryWrite(FILE, 'THAWED');
  throw new IsolaError('ECGROUP_FREEZE', `${frozen ? 'freeze' : 'thaw'} ${dir.path}: still ${dir.read(FILE)} after ${timeoutMs} ms`, {
    details: { path: dir.file(FILE) },
  });
}
