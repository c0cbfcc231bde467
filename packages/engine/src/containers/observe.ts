// What a container is doing now, from its record and the live system. The record can be behind: the
// monitor writes only the `exit` file, so the first command to look after the exit folds it into
// state.json (with the OOM kill read from the cgroup) and releases the runtime's state and cgroup.
// Whatever happened to the processes, a container is never reported running when its init is gone:
//   - exit file present            → exited, with the init's own status
//   - recorded in another boot     → exited (255): the host rebooted under it
//   - init alive                   → created or running (the monitor may be dead: then it runs unwatched)
//   - init gone, monitor alive     → the monitor is about to write the exit file: wait for it briefly
//   - init gone, monitor gone      → exited (255): its status was lost with its monitor
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCgroup, deleteContainer } from '@isola/container';
import { decodeExitRecord } from '../monitor/monitor.js';
import { type ContainerState, type ContainerStore, bootId } from './store.js';
import { detachNetwork } from '../networks/detach.js';

export interface Observed {
  id: string;
  status: 'created' | 'running' | 'exited';
  state: ContainerState;
}

// Shared with the hypervisor's detached VMs and the runtime: @isola/sys reads /proc.
import { isAlive, procStartTime } from '@isola/sys';

export { isAlive, procStartTime };

function readExit(store: ContainerStore, id: string) {
  try {
    return decodeExitRecord(readFileSync(store.path(id, 'exit')));
  } catch {
    return undefined;
  }
}

/** Whether the cgroup saw an OOM kill (v1 memory.oom_control, v2 memory.events): read before it is removed. */
async function oomKilled(id: string): Promise<boolean> {
  try {
    return (await createCgroup(`/isola/${id}`).oomKills()) > 0;
  } catch {
    return false; // no memory controller, or the cgroup is already gone (e.g. after a reboot)
  }
}

/** Records the exit in state.json and releases the runtime's state and the cgroup (after reading OOM). */
async function finish(store: ContainerStore, id: string, state: ContainerState, exit: Partial<ContainerState>): Promise<ContainerState> {
  const done: ContainerState = { ...state, status: 'exited', oomKilled: await oomKilled(id), ...exit };
  if (done.oomKilled && done.exitCode === 137) done.error = undefined;
  store.writeState(id, done);
  await deleteContainer(id, { root: store.runtimeRoot, force: true }).catch(() => {});
  // After a reboot the cgroup is gone and deleteContainer may stop before the runtime's state.
  rmSync(join(store.runtimeRoot, id), { recursive: true, force: true });
  // As docker does at stop: the published ports and the address go back to the pool.
  try {
    detachNetwork(store, id);
  } catch {
    // rm retries it
  }
  return done;
}

export async function observe(store: ContainerStore, id: string, options: { settleMs?: number } = {}): Promise<Observed> {
  const state = store.state(id);
  if (!state) return { id, status: 'created', state: { status: 'created', pid: 0, startTime: 0, monitorPid: 0, monitorStartTime: 0, bootId: bootId() } };
  if (state.status === 'exited') return { id, status: 'exited', state };
  const exited = (s: ContainerState): Observed => ({ id, status: 'exited', state: s });
  let exit = readExit(store, id);
  if (exit) return exited(await finish(store, id, state, { exitCode: exit.exitCode, finishedAt: exit.finishedAt.toISOString() }));
  if (state.bootId !== bootId()) {
    return exited(await finish(store, id, state, { exitCode: 255, error: 'the host rebooted while the container existed' }));
  }
  if (isAlive(state.pid, state.startTime)) return { id, status: state.status, state };
  // The init is gone. Its monitor writes the exit file once the logs are drained.
  const deadline = Date.now() + (options.settleMs ?? 3000);
  while (isAlive(state.monitorPid, state.monitorStartTime) && Date.now() < deadline) {
    await sleep(10);
    if ((exit = readExit(store, id))) break;
  }
  exit ??= readExit(store, id);
  if (exit) return exited(await finish(store, id, state, { exitCode: exit.exitCode, finishedAt: exit.finishedAt.toISOString() }));
  if (isAlive(state.monitorPid, state.monitorStartTime)) return exited({ ...state, status: 'exited', exitCode: 255 });
  return exited(await finish(store, id, state, {
    exitCode: 255,
    finishedAt: new Date().toISOString(),
    error: `exit status unknown: its monitor (pid ${state.monitorPid}) ended before the container did`,
  }));
}

export function hasExitFile(store: ContainerStore, id: string): boolean {
  return existsSync(store.path(id, 'exit'));
}
