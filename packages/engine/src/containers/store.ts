// Where containers live between commands, with no daemon to hold them:
//
//   <root>/containers/<id>/config.json     what was asked for (image, command, name...): written once
//   <root>/containers/<id>/state.json      what happened (pid, monitor, boot id, exit...): rewritten atomically
//   <root>/containers/<id>/exit            written by the monitor when it reaps the init (monitor.ts)
//   <root>/containers/<id>/container.log   the container's stdout and stderr, as the monitor framed them
//   <root>/containers/<id>/bundle/         the OCI bundle (config.json) the runtime reads
//   <root>/container-names/<name>          a symlink to the id: creating it is the atomic claim of a name
//   <root>/runtime/                        @isola/container's own state (its --root)
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IsolaError } from '@isola/errors';
import { randomName } from './names.js';
import type { MountRecord } from '../volumes/attach.js';
import type { Limits } from '../limits/parse.js';
import type { NetworkConfig } from '../networks/mode.js';
import { bootId } from '@isola/sys';

export interface ContainerConfig {
  id: string;
  name: string;
  /** The image as the user named it, and its ID. */
  image: string;
  imageId: string;
  created: string;
  /** docker's Path and Args: the program and its arguments. */
  path: string;
  args: string[];
  entrypoint: string[];
  cmd: string[];
  env: string[];
  workdir: string;
  user: string;
  hostname: string;
  /** Remove the container once it has exited. */
  autoRemove: boolean;
  /** --init, -i, -t (docker's HostConfig.Init, Config.OpenStdin, Config.Tty). */
  init?: boolean;
  interactive?: boolean;
  tty?: boolean;
  /** Started with run -d: no stream was attached. */
  detached?: boolean;
  /** -v, --mount and --tmpfs, as made (volumes/attach.ts). */
  mounts?: MountRecord[];
  /** --memory, --cpus... in docker's HostConfig units (limits/parse.ts). */
  limits?: Limits;
  /** --network, -p, --network-alias (networks/mode.ts); absent: made before networks, i.e. none. */
  network?: NetworkConfig;
}

export interface ContainerState {
  /** As last recorded; `observe` turns it into what is true now. */
  status: 'created' | 'running' | 'exited';
  /** The init's host pid and start time (tells a reused pid apart). */
  pid: number;
  startTime: number;
  /** The process that reaps the init: the monitor, or the CLI itself for a foreground --rm. */
  monitorPid: number;
  monitorStartTime: number;
  /** /proc/sys/kernel/random/boot_id when the init was created: a record from another boot is stale. */
  bootId: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  oomKilled?: boolean;
  /** Why the exit code is not what the init returned (it is 255 then). */
  error?: string;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export { bootId };

function writeAtomic(path: string, text: string | Buffer): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

export class ContainerStore {
  readonly root: string;
  readonly dir: string;
  readonly namesDir: string;
  readonly runtimeRoot: string;

  constructor(root: string) {
    this.root = root;
    this.dir = join(root, 'containers');
    this.namesDir = join(root, 'container-names');
    this.runtimeRoot = join(root, 'runtime');
  }

  path(id: string, file = ''): string {
    return join(this.dir, id, file);
  }

  bundle(id: string): string {
    return this.path(id, 'bundle');
  }

  /** Allocates an id and claims the name (given, or docker-style generated); fails on a name in use. */
  claim(name?: string): { id: string; name: string } {
    mkdirSync(this.dir, { recursive: true, mode: 0o711 });
    mkdirSync(this.namesDir, { recursive: true, mode: 0o711 });
    if (name !== undefined && !NAME.test(name)) {
      throw new IsolaError('EINVAL', `invalid container name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    const id = randomBytes(32).toString('hex');
    for (let attempt = 0; ; attempt++) {
      const candidate = name ?? randomName(attempt > 5);
      try {
        symlinkSync(id, join(this.namesDir, candidate));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (name === undefined) continue;
        const owner = this.nameOwner(name);
        throw new IsolaError('EEXIST', `the container name "/${name}" is already in use by container "${owner ?? '?'}": remove (or rename) that container to reuse the name`);
      }
      mkdirSync(this.path(id), { mode: 0o711 });
      return { id, name: candidate };
    }
  }

  nameOwner(name: string): string | undefined {
    try {
      return readlinkSync(join(this.namesDir, name));
    } catch {
      return undefined;
    }
  }

  releaseName(name: string, id: string): void {
    if (this.nameOwner(name) === id) unlinkSync(join(this.namesDir, name));
  }

  writeConfig(config: ContainerConfig): void {
    writeAtomic(this.path(config.id, 'config.json'), JSON.stringify(config, null, 2));
  }

  config(id: string): ContainerConfig {
    return JSON.parse(readFileSync(this.path(id, 'config.json'), 'utf8')) as ContainerConfig;
  }

  writeState(id: string, state: ContainerState): void {
    writeAtomic(this.path(id, 'state.json'), JSON.stringify(state));
  }

  /** undefined before anything ran (a container being created). */
  state(id: string): ContainerState | undefined {
    try {
      return JSON.parse(readFileSync(this.path(id, 'state.json'), 'utf8')) as ContainerState;
    } catch {
      return undefined;
    }
  }

  /** Every container's id (those whose config is written). */
  ids(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir).filter((id) => existsSync(this.path(id, 'config.json')));
  }

  /** A full id, a name, or a unique id prefix, as docker takes them. */
  resolve(ref: string): string {
    if (/^[0-9a-f]{64}$/.test(ref) && existsSync(this.path(ref, 'config.json'))) return ref;
    const named = NAME.test(ref) ? this.nameOwner(ref) : undefined;
    if (named && existsSync(this.path(named, 'config.json'))) return named;
    if (/^[0-9a-f]+$/.test(ref)) {
      const matches = this.ids().filter((id) => id.startsWith(ref));
      if (matches.length === 1) return matches[0]!;
      if (matches.length > 1) throw new IsolaError('EAMBIGUOUS', `container ID prefix "${ref}" is ambiguous: it matches ${matches.length} containers`);
    }
    throw new IsolaError('ENOTFOUND', `no such container: ${ref}`);
  }

  /** Removes the record and the name; what the container used is released by remove.ts first. */
  delete(id: string, name: string): void {
    this.releaseName(name, id);
    rmSync(this.path(id), { recursive: true, force: true, maxRetries: 3 });
  }
}
