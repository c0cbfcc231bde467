// Where containers live between commands: <root>/<id>/state.json (written atomically by `create`), and
// an empty `started` file that `start` adds. Adding a file is one atomic step; rewriting state.json
// through rename would replace a file just written, which ext4 answers by flushing it to disk
// (auto_da_alloc), and `delete` then waits for that write. The default root follows runc's /run/runc.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IsolaError } from '@isola/errors';
import type { Spec } from '../spec/types.js';

export const DEFAULT_ROOT = '/run/isola-runtime';

export interface ContainerRecord {
  id: string;
  /** Host pid of the container's init process. */
  pid: number;
  /** Its start time in clock ticks (/proc/PID/stat field 22): tells a reused pid from ours. */
  startTime: number;
  bundle: string;
  rootfs: string;
  /** ISO 8601, as runc's state prints it. */
  created: string;
  cgroupPath: string;
  /** Whether start has run: false in state.json, true once the `started` file exists. */
  started: boolean;
  /** The child's copy of the start pipe's write end: `start` writes to /proc/PID/fd/N to release it. */
  syncFd: number;
  annotations: Record<string, string>;
  config: Spec;
}

const ID = /^[\w+\-.]+$/;

export function checkId(id: string): void {
  if (!ID.test(id) || id === '.' || id === '..') throw new IsolaError('EINVALID_ID', `invalid container id ${JSON.stringify(id)}: use letters, digits and _ + - .`);
}

export class StateStore {
  readonly root: string;

  constructor(root = DEFAULT_ROOT) {
    this.root = root;
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  fifo(id: string): string {
    return join(this.dir(id), 'exec.fifo');
  }

  /** Claims the id: fails if a container with it exists. */
  claim(id: string): string {
    checkId(id);
    mkdirSync(this.root, { recursive: true, mode: 0o711 });
    try {
      mkdirSync(this.dir(id), { mode: 0o711 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new IsolaError('EEXIST', `container "${id}" already exists`);
      throw error;
    }
    return this.dir(id);
  }

  write(record: ContainerRecord): void {
    const path = join(this.dir(record.id), 'state.json');
    writeFileSync(`${path}.tmp`, JSON.stringify(record));
    renameSync(`${path}.tmp`, path);
  }

  /** Records that `start` has released the container's process (see the top of this file). */
  markStarted(id: string): void {
    closeSync(openSync(join(this.dir(id), 'started'), 'w', 0o600));
  }

  read(id: string): ContainerRecord {
    checkId(id);
    const path = join(this.dir(id), 'state.json');
    if (!existsSync(path)) throw new IsolaError('ENOTFOUND', `container "${id}" does not exist`);
    const record = JSON.parse(readFileSync(path, 'utf8')) as ContainerRecord;
    if (!record.started && existsSync(join(this.dir(id), 'started'))) record.started = true;
    return record;
  }

  list(): string[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root).filter((id) => existsSync(join(this.root, id, 'state.json'))).sort();
  }

  remove(id: string): void {
    // state.json and the directory, without rmSync's recursive walk (slow to load and to run); anything
    // else found there still goes, the slow way.
    const dir = this.dir(id);
    try {
      for (const name of ['started', 'state.json']) {
        try {
          unlinkSync(join(dir, name));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
      rmdirSync(dir);
    } catch {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
