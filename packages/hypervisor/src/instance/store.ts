// Where detached VMs live between commands, with no daemon to hold them:
//
//   <root>/vms/<id>/config.json    what was asked for (kernel, cpus, memory, name...): written once
//   <root>/vms/<id>/state.json     what the monitor process recorded (pid, start time, boot id, end): atomic
//   <root>/vms/<id>/console.log    the guest's serial output
//   <root>/vms/<id>/monitor.log    the monitor process's own stderr (for when it dies unexpectedly)
//   <root>/vm-names/<name>         a symlink to the id: creating it is the atomic claim of a name
//
// <root> is $ISOLA_ROOT, else /var/lib/isola as root (as the container and image stores use it).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { hypervisorError } from '../errors.js';
import type { DiskOptions } from '../devices/virtio-blk/disk-spec.js';

export interface VmConfig {
  id: string;
  name: string;
  created: string;
  cpus: number;
  memoryMiB: number;
  /** Absolute paths: the monitor runs in another working directory. */
  kernel?: string;
  flat?: string;
  initrd?: string;
  cmdline?: string;
  boot?: 'pvh' | 'linux64';
  /** Virtio-blk disks, their paths absolute. */
  disks?: DiskOptions[];
  rng?: boolean;
  /** --trace-mmio: the monitor appends one line per MMIO access to console.log. */
  traceMmio?: boolean;
}

export interface VmRecord {
  /** As last recorded; observe() tells what is true now. */
  status: 'starting' | 'running' | 'stopped';
  /** The monitor process (which holds the VM) and its start time in clock ticks, telling a reused pid apart. */
  pid: number;
  startTime: number;
  bootId: string;
  startedAt?: string;
  finishedAt?: string;
  /** How the guest ended: 'exit 42', 'reset', 'shutdown', 'stopped', or the error that stopped it. */
  end?: string;
}

const ID_LENGTH = 64;
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

export function defaultRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ISOLA_ROOT) return resolve(env.ISOLA_ROOT);
  if (process.getuid?.() === 0) return '/var/lib/isola';
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'isola');
}

export class VmStore {
  readonly root: string;

  constructor(root = defaultRoot()) {
    this.root = root;
  }

  get dir(): string {
    return join(this.root, 'vms');
  }

  path(id: string, file = ''): string {
    return join(this.dir, id, file);
  }

  ids(): string[] {
    return existsSync(this.dir) ? readdirSync(this.dir).filter((id) => /^[0-9a-f]{64}$/.test(id) && existsSync(this.path(id, 'config.json'))) : [];
  }

  /** A new VM directory with its config, and its name claimed; `release` undoes both. */
  create(config: Omit<VmConfig, 'id' | 'name' | 'created'> & { name?: string }): VmConfig {
    const id = randomBytes(ID_LENGTH / 2).toString('hex');
    const name = config.name ?? `vm-${id.slice(0, 8)}`;
    if (!NAME.test(name)) throw hypervisorError('EVM_CONFIG', `VM name ${JSON.stringify(name)}: use letters, digits, _ . - (starting with a letter or digit), at most 128`, { name });
    mkdirSync(join(this.root, 'vm-names'), { recursive: true, mode: 0o700 });
    try {
      symlinkSync(id, join(this.root, 'vm-names', name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw hypervisorError('EVM_NAME_IN_USE', `the VM name "${name}" is already in use`, { name });
      throw error;
    }
    const full: VmConfig = { ...config, id, name, created: new Date().toISOString() };
    mkdirSync(this.path(id), { recursive: true, mode: 0o700 });
    writeFileSync(this.path(id, 'config.json'), `${JSON.stringify(full, null, 2)}\n`);
    return full;
  }

  config(id: string): VmConfig {
    return JSON.parse(readFileSync(this.path(id, 'config.json'), 'utf8')) as VmConfig;
  }

  record(id: string): VmRecord | undefined {
    try {
      return JSON.parse(readFileSync(this.path(id, 'state.json'), 'utf8')) as VmRecord;
    } catch {
      return undefined;
    }
  }

  writeRecord(id: string, record: VmRecord): void {
    const tmp = this.path(id, `.state.json.${process.pid}`);
    writeFileSync(tmp, `${JSON.stringify(record)}\n`);
    renameSync(tmp, this.path(id, 'state.json'));
  }

  /** A full id, a unique id prefix or a name, to the id. */
  resolve(ref: string): string {
    if (ref.length > 0 && !ref.includes('/') && ref !== '.' && ref !== '..') {
      try {
        const target = readlinkSync(join(this.root, 'vm-names', ref));
        if (existsSync(this.path(target, 'config.json'))) return target;
      } catch {
        // not a name
      }
    }
    const matches = /^[0-9a-f]+$/.test(ref) ? this.ids().filter((id) => id.startsWith(ref)) : [];
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) throw hypervisorError('EVM_AMBIGUOUS', `VM id prefix "${ref}" matches ${matches.length} VMs`, { ref });
    throw hypervisorError('EVM_NOT_FOUND', `no such VM: ${ref}`, { ref });
  }

  /** Deletes the VM's directory and frees its name. */
  remove(id: string): void {
    let name: string | undefined;
    try {
      name = this.config(id).name;
    } catch {
      // half-created: no config
    }
    if (name) {
      const link = join(this.root, 'vm-names', name);
      try {
        if (readlinkSync(link) === id) unlinkSync(link);
      } catch {
        // already gone
      }
    }
    rmSync(this.path(id), { recursive: true, force: true });
  }
}
