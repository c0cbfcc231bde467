// `isola start` (and the second half of `run`): the container's init, created by a detached process
// that then becomes its monitor (monitor/launch.ts), so the container outlives this command.
import { IsolaError } from '@isola/errors';
import { Launcher } from './launcher.js';
import { observe } from './observe.js';
import type { ContainerStore } from './store.js';

export { Launcher };

/** Creates the init (`create`) or creates and starts it (`start`); resolves with its pid once it is so. */
export async function launchContainer(containers: ContainerStore, id: string, mode: 'create' | 'start', launcher = new Launcher()): Promise<number> {
  return launcher.launch(containers, id, mode);
}

/** Starts a created container: its init is already there, waiting; the runtime's start releases it. */
export async function startCreated(containers: ContainerStore, id: string): Promise<void> {
  const observed = await observe(containers, id);
  if (observed.status === 'running') return;
  if (observed.status === 'exited') {
    throw new IsolaError('ESTATE', `cannot start container "${containers.config(id).name}": it has exited (restarting a stopped container is not supported yet)`);
  }
  if (observed.state.pid === 0) {
    await launchContainer(containers, id, 'start');
    return;
  }
  const { startContainer } = await import('@isola/container');
  await startContainer(id, { root: containers.runtimeRoot });
  containers.writeState(id, { ...observed.state, status: 'running', startedAt: new Date().toISOString() });
}
