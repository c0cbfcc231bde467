// `isola logs`: the container's output from the monitor's log, with --tail, --timestamps and --follow
// (until the container has exited and everything it wrote was shown).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LogLine, LogReader, formatTimestamp } from '../logs/log-file.js';
import { observe } from './observe.js';
import type { ContainerStore } from './store.js';

export interface LogsOptions {
  follow?: boolean;
  /** Only the last N lines (of what is there when the command starts). */
  tail?: number;
  timestamps?: boolean;
  write(stream: 'stdout' | 'stderr', text: Buffer | string): void;
}

function readFrom(fd: number, offset: number): Buffer {
  const size = fstatSync(fd).size;
  if (size <= offset) return Buffer.alloc(0);
  const buffer = Buffer.alloc(size - offset);
  const n = readSync(fd, buffer, 0, buffer.length, offset);
  return buffer.subarray(0, n);
}

export async function showLogs(containers: ContainerStore, id: string, options: LogsOptions): Promise<void> {
  const emit = (lines: LogLine[]) => {
    for (const line of lines) options.write(line.stream, options.timestamps ? `${formatTimestamp(line.time)} ${line.text.toString()}` : line.text);
  };
  let fd: number | undefined;
  for (;;) {
    try {
      fd = openSync(containers.path(id, 'container.log'), 'r');
      break;
    } catch {
      // Not there: a container created by a foreground --rm run (no log), or one not started yet.
      if (!options.follow || (await observe(containers, id)).status === 'exited') return;
      await sleep(50);
    }
  }
  try {
    const reader = new LogReader();
    let lines = reader.push(readFrom(fd, 0));
    if (!options.follow) lines.push(...reader.flush());
    if (options.tail !== undefined && options.tail >= 0) lines = options.tail === 0 ? [] : lines.slice(-options.tail);
    emit(lines);
    if (!options.follow) return;
    for (;;) {
      // Look first, read after: everything written before the exit is then read in the last round.
      const done = (await observe(containers, id, { settleMs: 500 })).status === 'exited';
      emit(reader.push(readFrom(fd, reader.offset)));
      if (done) break;
      await sleep(50);
    }
    emit(reader.flush());
  } finally {
    closeSync(fd);
  }
}
