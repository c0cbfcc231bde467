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
import { Launcher, launchContainer } from './containers/start.js';
import { type ContainerStore, bootId } from './containers/store.js';
import { startAndExec } from './monitor/launch.js';
import { encodeExitRecord } from './monitor/monitor.js';
import { attachTerminal } from './tty/attach.js';
import { ConsoleSocket } from './tty/console-socket.js';
import { withStdio } from './tty/stdio.js';
import { type PtySession, relayPty } from './tty/terminal.js';

export interface RunOptions extends CreateOptions {
  detach?: boolean;
}

/** Runs the container; returns its exit status (foreground) or its id (detached). */
export async function runImage(options: RunOptions): Promise<number | string> {
  const launcher = options.autoRemove && !options.detach ? undefined : new Launcher({ attachStdin: options.interactive && !options.detach && !options.tty });
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
      return await runInProcess(containers, config.id, { interactive: options.interactive ?? false });
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
  const code = (await waitForInit(record.pid, record.startTime)) ?? 255;
  writeFileSync(containers.path(id, 'exit'), encodeExitRecord(code));
  return code;
}
