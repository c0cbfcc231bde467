// `isola run`: create (containers/create.ts), then one of three ways to run it:
//   -d           the init under its own monitor (start.ts); prints the id and returns
//   (default)    the same, with this process following the log until the exit: the container keeps
//                its record and log after it, and outlives this command if it is killed
//   --rm         in this process, as its parent, with the terminal as its stdio: the fast path
//                (no second Node process, no log), removed when it exits
import { readFileSync, writeFileSync } from 'node:fs';
import { createContainer, waitForExit as waitForInit } from '@isola/container';
import { umount2 } from '@isola/sys';
import { type CreateOptions, createFromImage, openStores } from './containers/create.js';
import { procStartTime } from './containers/observe.js';
import { removeContainer } from './containers/remove.js';
import { showLogs } from './containers/logs.js';
import { signalContainer, waitForExit } from './containers/signal.js';
import { Launcher, launchContainer } from './containers/start.js';
import { type ContainerStore, bootId } from './containers/store.js';
import { startAndExec } from './monitor/launch.js';
import { encodeExitRecord } from './monitor/monitor.js';

export interface RunOptions extends CreateOptions {
  detach?: boolean;
}

/** Runs the container; returns its exit status (foreground) or its id (detached). */
export async function runImage(options: RunOptions): Promise<number | string> {
  const launcher = options.autoRemove && !options.detach ? undefined : new Launcher();
  let config;
  try {
    config = await createFromImage(options);
  } catch (error) {
    launcher?.cancel();
    throw error;
  }
  const { images, containers } = await openStores(options.root);
  if (!launcher) {
    try {
      return await runInProcess(containers, config.id);
    } finally {
      await removeContainer(containers, images, config.id, { force: true });
    }
  }
  try {
    await launchContainer(containers, config.id, 'start', launcher);
  } catch (error) {
    await removeContainer(containers, images, config.id, { force: true }).catch(() => {});
    throw error;
  }
  if (options.detach) return config.id;
  return attach(containers, config.id);
}

/** Shows the container's output as it comes, passes SIGINT/SIGTERM on, and returns its exit code. */
export async function attach(containers: ContainerStore, id: string): Promise<number> {
  const forward = (signal: NodeJS.Signals) => void signalContainer(containers, id, signal).catch(() => {});
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    await showLogs(containers, id, { follow: true, write: (stream, text) => (stream === 'stdout' ? process.stdout : process.stderr).write(text) });
    return (await waitForExit(containers, id)).state.exitCode ?? 255;
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
}

async function runInProcess(containers: ContainerStore, id: string): Promise<number> {
  const bundle = containers.bundle(id);
  const spec = JSON.parse(readFileSync(`${bundle}/config.json`, 'utf8'));
  const root = containers.runtimeRoot;
  const { record, child } = await createContainer({ id, bundle, root, spec });
  try {
    umount2(spec.root.path, 0);
  } catch {
    // a copy, not an overlay
  }
  containers.writeState(id, {
    status: 'running', pid: record.pid, startTime: record.startTime, bootId: bootId(),
    monitorPid: process.pid, monitorStartTime: procStartTime(process.pid) ?? 0, startedAt: new Date().toISOString(),
  });
  await startAndExec(id, root, record, child);
  const code = (await waitForInit(record.pid, record.startTime)) ?? 255;
  writeFileSync(containers.path(id, 'exit'), encodeExitRecord(code));
  return code;
}
