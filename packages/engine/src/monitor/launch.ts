// The process that makes a container's init and then becomes its monitor. `containers/launcher.ts`
// spawns it detached early (`isola run` does before it loads the engine), so that its loading overlaps
// the caller's work on the image and rootfs; once the container's record is ready it gets
// `{ root, id, mode }` as a line on stdin. It creates the container with the write ends of two pipes as
// the init's stdout and stderr, reports `{ pid }` (or the error) on fd 3, and execs the monitor in its
// own place: the monitor is then the init's real parent, without a subreaper, and the 40 MB of Node
// are gone. What it prints on its way (an uncaught error, ISOLA_TIMING marks) goes to the caller's
// stderr pipe, which the caller reads for the reason when no report comes. Reused as the monitor's
// exit command for --rm (`node launch.js ROOT ID remove`).
// With -t the init's stdio is a pty instead: its master comes back over a console socket and takes
// the stdout pipe's place (the monitor logs it as stdout). Stdin: see placeStdin.
//
// Node has no dup2: `close(n)` then `fcntl(fd, F_DUPFD, n)` puts fd at n, since n is the lowest free.
import { readFileSync, readSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createContainer, deleteContainer, startContainer } from '@isola/container';
import { setTimeout as sleep } from 'node:timers/promises';
import { type SpawnedChild, abi, close, execve, fcntl, mkfifo, open, pipe2, umount2 } from '@isola/sys';
import { describeError } from '@isola/errors';
import { ContainerStore, bootId } from '../containers/store.js';
import { isAlive, procStartTime } from '../containers/observe.js';
import { installMonitor } from './monitor.js';
import { ConsoleSocket } from '../tty/console-socket.js';
import { mark, markTo } from '../timing/mark.js';
import { LAUNCH_SCRIPT } from './launch-script.js';

/** fcntl's F_DUPFD (0) and F_DUPFD_CLOEXEC (1030): not among @isola/sys's constants. */
const F_DUPFD = 0;
const F_DUPFD_CLOEXEC = 1030;

export { LAUNCH_SCRIPT };

function moveTo(fd: number, target: number): void {
  close(target);
  const got = fcntl(fd, F_DUPFD, target);
  if (got !== target) throw new Error(`fd ${fd} landed on ${got}, not ${target}`);
  close(fd);
}

/**
 * The runtime's start, and the init's own report when it fails: a step that failed before start (or
 * the exec) says more than "it has stopped". Ends with the program exec'd.
 */
export async function startAndExec(id: string, runtimeRoot: string, record: { pid: number; startTime: number }, child: SpawnedChild): Promise<void> {
  try {
    await startContainer(id, { root: runtimeRoot });
  } catch (error) {
    // A process that failed a step may still be on its way out: let it finish, then ask it why.
    for (let i = 0; i < 100 && isAlive(record.pid, record.startTime); i++) await sleep(10);
    if (!isAlive(record.pid, record.startTime)) child.awaitSteps(); // throws the SpawnError it reported
    throw error;
  }
  child.awaitSteps();
}

function report(message: object): void {
  writeSync(3, `${JSON.stringify(message)}\n`);
}

async function launch(root: string, id: string, start: boolean, attachStdin: boolean): Promise<void> {
  const store = new ContainerStore(root);
  const spec = JSON.parse(readFileSync(`${store.bundle(id)}/config.json`, 'utf8'));
  const monitor = installMonitor(root);
  placeStdin(store, id, attachStdin);
  const [outRead, outWrite] = pipe2();
  const [errRead, errWrite] = pipe2();
  moveTo(outWrite, 1);
  moveTo(errWrite, 2);
  mark('launcher stdio placed');
  // -t: the pty's master comes back here, and the monitor logs it in place of the stdout pipe.
  const consoleSocket = spec.process.terminal ? new ConsoleSocket() : undefined;
  let master: number | undefined;
  let created;
  try {
    created = await createContainer({ id, bundle: store.bundle(id), root: store.runtimeRoot, spec, consoleSocket: consoleSocket?.path });
    try {
      master = consoleSocket?.receive();
    } catch (error) {
      await deleteContainer(id, { root: store.runtimeRoot, force: true }).catch(() => {});
      throw error;
    }
  } finally {
    consoleSocket?.close();
  }
  const { record, child } = created;
  mark('launcher init created');
  try {
    // The init holds its root in its own mount namespace; the host needs no mount of it.
    try {
      umount2(spec.root.path, 0);
    } catch {
      // a copy rather than an overlay: nothing mounted
    }
    const state = {
      status: 'created' as 'created' | 'running', pid: record.pid, startTime: record.startTime, bootId: bootId(),
      monitorPid: process.pid, monitorStartTime: procStartTime(process.pid) ?? 0, startedAt: undefined as string | undefined,
    };
    if (start) {
      await startAndExec(id, store.runtimeRoot, record, child);
      state.status = 'running';
      state.startedAt = new Date().toISOString();
    } else {
      child.release();
    }
    store.writeState(id, state);
  } catch (error) {
    await deleteContainer(id, { root: store.runtimeRoot, force: true }).catch(() => {});
    throw error;
  }
  // The log exists before anyone is told the container does: `run` follows it right away.
  const log = open(store.path(id, 'container.log'), abi.O_WRONLY | abi.O_APPEND | abi.O_CREAT | abi.O_CLOEXEC, 0o640);
  if (master !== undefined) {
    close(outRead);
    moveTo(master, 0);
  } else {
    moveTo(outRead, 0);
  }
  moveTo(errRead, 1);
  moveTo(log, 2);
  // Reported once the fds are in place: `run -t` takes its copy of the master from the monitor's fd 0.
  report({ pid: record.pid });
  mark('launcher reported');
  const config = store.config(id);
  const exitCommand = config.autoRemove ? [process.execPath, LAUNCH_SCRIPT, root, id, 'remove'] : [];
  const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
  // The caller has its answer: now the bundle's code cache, if it was missing (dist/launch.cjs, the
  // entry, compiles the bundle through it; no `exit` event comes after an exec).
  (createRequire(import.meta.url).main?.exports as { saveCodeCache?: () => void } | undefined)?.saveCodeCache?.();
  execve(monitor, ['isola-monitor', String(record.pid), store.path(id), ...exitCommand], env);
}

/**
 * The container's stdin (fd 0 here, inherited by its init): the caller's own, passed as fd 4 (`run -i`
 * in the foreground); a fifo this fd holds open for writing too, so that it never ends (`-d -i`, `create
 * -i`, as docker keeps a detached container's stdin open); else /dev/null.
 */
function placeStdin(store: ContainerStore, id: string, attach: boolean): void {
  if (attach) {
    moveTo(4, 0);
    return;
  }
  if (!store.config(id).interactive) return;
  const path = store.path(id, 'stdin');
  mkfifo(path, 0o600);
  moveTo(open(path, abi.O_RDWR), 0);
}

/** The one line the caller sends when the container is ready to be made (EOF: it never will be). */
function readOrder(): { root: string; id: string; mode: string; stdin?: 'attach' } | undefined {
  let text = '';
  const buffer = Buffer.alloc(4096);
  while (!text.includes('\n')) {
    const n = readSync(0, buffer);
    if (n === 0) return undefined;
    text += buffer.toString('utf8', 0, n);
  }
  // stdin becomes the container's: /dev/null, as docker gives a container run without -i.
  close(0);
  if (open('/dev/null', abi.O_RDONLY) !== 0) throw new Error('cannot put /dev/null on fd 0');
  return JSON.parse(text.slice(0, text.indexOf('\n'))) as { root: string; id: string; mode: string; stdin?: 'attach' };
}

/**
 * Keeps the caller's end of stderr on a close-on-exec fd: fd 2 becomes the container's stderr before
 * the init is made, so that what goes wrong afterwards (an uncaught error, the timing marks) would
 * otherwise land in the container's log, or nowhere once the caller has gone. The caller reads it for
 * the reason when no report comes (containers/start.ts).
 */
function keepCallerStderr(): number {
  const fd = fcntl(2, F_DUPFD_CLOEXEC, 10);
  markTo(fd);
  const fail = (error: unknown) => {
    try {
      writeSync(fd, `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      report({ error: { code: (error as { code?: string }).code ?? 'ELAUNCH', message: describeError(error).replace(/^Error: /, '') } });
    } catch {
      // the caller has gone: nobody is left to tell
    }
    process.exit(1);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  return fd;
}

async function main(): Promise<void> {
  if (process.argv.length === 2) {
    let order;
    try {
      mark('launcher loaded');
      keepCallerStderr();
      order = readOrder();
      if (!order) return;
      mark('launcher order read');
      await launch(order.root, order.id, order.mode === 'start', order.stdin === 'attach');
    } catch (error) {
      report({ error: { code: (error as { code?: string }).code ?? 'ELAUNCH', message: describeError(error).replace(/^Error: /, '') } });
      process.exitCode = 1;
    }
    return;
  }
  const [root, id, mode] = process.argv.slice(2) as [string, string, string];
  if (mode === 'remove') {
    const { removeContainer } = await import('../containers/remove.js');
    const { ImageStore } = await import('@isola/image');
    await removeContainer(new ContainerStore(root), await ImageStore.open({ root }), id, { force: true });
  }
}

// Not a top-level await: the CLI's CommonJS bundle loads this package with require() (no async modules).
if (process.argv[1] === LAUNCH_SCRIPT) void main();
