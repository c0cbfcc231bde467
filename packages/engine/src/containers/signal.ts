// `isola kill`, `isola stop` and `isola wait`: signals to a container's init, and waiting for its end.
import { setTimeout as sleep } from 'node:timers/promises';
import { IsolaError } from '@isola/errors';
import { killContainer as runtimeKill, parseSignal } from '@isola/container';
import { type Observed, observe } from './observe.js';
import type { ContainerStore } from './store.js';

export async function signalContainer(containers: ContainerStore, id: string, signal: string | number = 'SIGKILL'): Promise<void> {
  const number = parseSignal(signal);
  if ((await observe(containers, id)).status !== 'running') {
    throw new IsolaError('ESTATE', `cannot kill container "${containers.config(id).name}": it is not running`);
  }
  try {
    await runtimeKill(id, number, { root: containers.runtimeRoot });
  } catch (error) {
    // It ended between the look and the signal.
    if ((await observe(containers, id)).status === 'running') throw error;
  }
}

/** Waits until the container has exited (or `timeoutMs` passed: then the last observation). */
export async function waitForExit(containers: ContainerStore, id: string, timeoutMs = Infinity): Promise<Observed> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    const observed = await observe(containers, id);
    if (observed.status === 'exited' || Date.now() >= deadline) return observed;
    await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
    delay = Math.min(delay * 2, 100);
  }
}

/** docker stop: SIGTERM, then SIGKILL after `timeoutSeconds`. Stopping a stopped container is no error. */
export async function stopContainer(containers: ContainerStore, id: string, timeoutSeconds = 10): Promise<Observed> {
  let observed = await observe(containers, id);
  if (observed.status === 'exited') return observed;
  if (observed.status === 'created') {
    await runtimeKill(id, 'SIGKILL', { root: containers.runtimeRoot, all: true }).catch(() => {});
    return waitForExit(containers, id, 10_000);
  }
  await runtimeKill(id, 'SIGTERM', { root: containers.runtimeRoot }).catch(() => {});
  observed = await waitForExit(containers, id, timeoutSeconds * 1000);
  if (observed.status === 'exited') return observed;
  // The init is PID 1 of its namespace: when it dies, the kernel kills the rest.
  await runtimeKill(id, 'SIGKILL', { root: containers.runtimeRoot, all: true }).catch(() => {});
  return waitForExit(containers, id, 10_000);
}
