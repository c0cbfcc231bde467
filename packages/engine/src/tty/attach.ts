// `run -t` in the foreground, like podman with conmon: the monitor holds the pty's master and logs what
// the container writes, so the container outlives this process. This process shows the log's bytes as
// they come (raw: a prompt has no newline), and takes its own copy of the master from the monitor
// (pidfd_getfd) to type into it and to pass the window size.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { close, pidfdGetfd, pidfdOpen } from '@isola/sys';
import { LOG_HEADER_SIZE, STREAM } from '../monitor/monitor.js';
import { hasExitFile, observe } from '../containers/observe.js';
import { signalContainer, waitForExit } from '../containers/signal.js';
import type { ContainerStore } from '../containers/store.js';
import { HostTerminal } from './terminal.js';

export interface LogRecord {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

/** The whole records at the start of `bytes` (monitor.S's framing), and how many bytes they took. */
export function parseRecords(bytes: Buffer): { records: LogRecord[]; consumed: number } {
  const records: LogRecord[] = [];
  let at = 0;
  while (at + LOG_HEADER_SIZE <= bytes.length) {
    const length = bytes.readUInt32LE(at + 8);
    const stream = bytes.readUInt32LE(at + 12);
    if (at + LOG_HEADER_SIZE + length > bytes.length) break;
    records.push({ stream: stream === STREAM.stderr ? 'stderr' : 'stdout', data: bytes.subarray(at + LOG_HEADER_SIZE, at + LOG_HEADER_SIZE + length) });
    at += LOG_HEADER_SIZE + length;
  }
  return { records, consumed: at };
}

/** /dev/ptmx (and each devpts instance's ptmx): character device 5:2. */
const PTMX_RDEV = (5 << 8) | 2;

/**
 * A copy of the pty master, the monitor's fd 0; undefined once the monitor has closed it (the container
 * ended: the master reads EIO). fd 0 is checked to be a master: after closing it the monitor opens its
 * exit record, which would get that number, and keystrokes must never go there.
 */
function masterOf(monitorPid: number): number | undefined {
  let pidfd: number | undefined;
  let fd: number | undefined;
  try {
    pidfd = pidfdOpen(monitorPid);
    fd = pidfdGetfd(pidfd, 0);
    const stat = fstatSync(fd);
    if (stat.isCharacterDevice() && stat.rdev === PTMX_RDEV) return fd;
  } catch {
    // the monitor or its fd 0 is gone
  } finally {
    if (pidfd !== undefined) close(pidfd);
  }
  if (fd !== undefined) close(fd);
  return undefined;
}

/** Relays the terminal until the container exits; returns its exit code. */
export async function attachTerminal(containers: ContainerStore, id: string, options: { interactive: boolean }): Promise<number> {
  const state = containers.state(id)!;
  const master = masterOf(state.monitorPid);
  const host = master === undefined ? undefined : new HostTerminal(master, options);
  const forward = (signal: NodeJS.Signals) => void signalContainer(containers, id, signal).catch(() => {});
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const fd = openSync(containers.path(id, 'container.log'), 'r');
  try {
    let offset = 0;
    let pending = Buffer.alloc(0);
    const show = () => {
      const size = fstatSync(fd).size;
      if (size <= offset) return;
      const fresh = Buffer.alloc(size - offset);
      offset += readSync(fd, fresh, 0, fresh.length, offset);
      const { records, consumed } = parseRecords(Buffer.concat([pending, fresh]));
      for (const r of records) (r.stream === 'stdout' ? process.stdout : process.stderr).write(r.data);
      pending = Buffer.concat([pending, fresh]).subarray(consumed);
    };
    // The monitor writes the exit file after the last of the output: look first, read after.
    for (let round = 0; ; round++) {
      const done = hasExitFile(containers, id) || (round % 20 === 19 && (await observe(containers, id)).status === 'exited');
      show();
      if (done) break;
      await sleep(10);
    }
    return (await waitForExit(containers, id)).state.exitCode ?? 255;
  } finally {
    closeSync(fd);
    host?.close();
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
}
