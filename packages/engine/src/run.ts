// `isola run`: create (containers/create.ts), then one of three ways to run it:
//   -d           the init under its own monitor (start.ts); prints the id and returns
//   (default)    the same, with this process following the log until the exit: the container keeps
//                its record and log after it, and outlives this command if it is killed
//   --rm         in this process, as its parent, with the terminal as its stdio: the fast path
//                (no second Node process, no log), removed when it exits
// -i keeps stdin attached (without it the container's is /dev/null); -t gives the container a pty,
// whose master the monitor holds (tty/attach.ts), or this process with --rm (tty/terminal.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { type Created, createContainer, waitForExit as waitForInit } from '@isola/container';
import { umount2 } from '@isola/sys';
import { type CreateOptions, createFromImage, openStores } from './containers/create.js';
import { procStartTime } from './containers/observe.js';
import { removeContainer } from './containers/remove.js';
import { showLogs } from './containers/logs.js';
import { signalContainer, waitForExit } from './containers/signal.js';
import { type Launcher, launcherFor } from './containers/launcher.js';
import { launchContainer } from './containers/start.js';
import { type ContainerStore, bootId } from './containers/store.js';
import { startAndExec } from './monitor/launch.js';
import { encodeExitRecord } from './monitor/monitor.js';
import { attachTerminal } from './tty/attach.js';
import { ConsoleSocket } from './tty/console-socket.js';
import { withStdio } from './tty/stdio.js';
import { type PtySession, relayPty } from './tty/terminal.js';
import { mark } from './timing/mark.js';

export interface RunOptions extends CreateOptions {
  detach?: boolean;
  /** The launcher, when the caller started it early (launcherFor(options), before loading the engine). */
  launcher?: Launcher;
}

/** Runs the container; returns its exit status (foreground) or its id (detached). */
export async function runImage(options: RunOptions): Promise<number | string> {
  mark('engine entered');
  const launcher = options.launcher ?? launcherFor(options);
  let config;
  let stores;
  try {
    stores = await openStores(options.root);
    config = await createFromImage(options, stores);
  } catch (error) {
    launcher?.cancel();
    throw error;
  }
  const { images, containers } = stores;
  if (!launcher) {
    let reaped = false;
    try {
      const code = await runInProcess(containers, config.id, { interactive: options.interactive ?? false });
      reaped = true;
      return code;
    } finally {
      await removeContainer(containers, images, config.id, { force: true, reaped });
      mark('removed');
    }
  }
  try {
    await launchContainer(containers, config.id, 'start', launcher);
    mark('launched');
  } catch (error) {
    await removeContainer(containers, images, config.id, { force: true }).catch(() => {});
    throw error;
  }
  if (options.detach) return config.id;
  if (options.tty) return attachTerminal(containers, config.id, { interactive: options.interactive ?? false });
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

async function runInProcess(containers: ContainerStore, id: string, options: { interactive: boolean }): Promise<number> {
  const bundle = containers.bundle(id);
  const spec = JSON.parse(readFileSync(`${bundle}/config.json`, 'utf8'));
  const root = containers.runtimeRoot;
  // With -t this process holds the pty's only master (no monitor): it relays it to the terminal.
  const consoleSocket = spec.process.terminal ? new ConsoleSocket() : undefined;
  let created;
  let pty: PtySession | undefined;
  try {
    created = await withStdio({ stdin: options.interactive, output: true }, () => createContainer({ id, bundle, root, spec, consoleSocket: consoleSocket?.path }));
    mark('init created');
    if (consoleSocket) pty = relayPty(consoleSocket.receive(), options);
  } finally {
    consoleSocket?.close();
  }
  try {
    return await runCreated(containers, id, spec, created);
  } finally {
    await pty?.drained();
    pty?.close();
  }
}

async function runCreated(containers: ContainerStore, id: string, spec: { root: { path: string } }, { record, child }: Created): Promise<number> {
  const root = containers.runtimeRoot;
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
  mark('init started');
  const code = (await waitForInit(record.pid, record.startTime)) ?? 255;
  mark('init exited');
  writeFileSync(containers.path(id, 'exit'), encodeExitRecord(code));
  return code;
}
