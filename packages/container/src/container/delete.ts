// `delete`: remove a stopped container (or, with force, kill it first): its process, cgroup and state.
// Its mounts live in its own mount namespace and vanish with its last process.
import { setTimeout as sleep } from 'node:timers/promises';
import { IsolaError } from '@isola/errors';
import { abi, isAlive, waitid } from '@isola/sys';
import { createCgroup } from '../cgroups/index.js';
import { StateStore } from '../state/store.js';
import { stateOf } from './create.js';
import { runHooks } from './hooks.js';
import { statusOf } from './status.js';

export async function deleteContainer(id: string, options: { root?: string; force?: boolean; warn?: (m: string) => void } = {}): Promise<void> {
  const store = new StateStore(options.root);
  const record = store.read(id);
  const status = await statusOf(record);
  if ((status === 'running' || status === 'paused') && !options.force) {
    throw new IsolaError('ESTATE', `cannot delete container "${id}" that is not stopped: ${status}`);
  }
  const cgroup = createCgroup(record.cgroupPath);
  if (status !== 'stopped') {
    await cgroup.kill('SIGKILL');
    for (let i = 0; i < 500 && isAlive(record.pid, record.startTime); i++) await sleep(10);
  }
  try {
    waitid({ pid: record.pid }, abi.WEXITED | abi.WNOHANG); // reap it if it was our child
  } catch {
    // not our child (created by another process): its parent reaps it
  }
  await cgroup.destroy();
  store.remove(id);
  await runHooks('poststop', record.config.hooks, stateOf(record, 'stopped'), options.warn);
}
