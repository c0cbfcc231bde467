// One cgroup interface for v1, v2 and hybrid hosts. A container's cgroup is the same relative path in
// every hierarchy; each resource goes to whichever hierarchy holds its controller (on a hybrid host:
// v1 for memory, cpu, pids..., the unified hierarchy for hugetlb), so the three modes differ only in
// which hierarchies exist, not in separate code paths.
import { IsolaError } from '@isola/errors';
import type { LinuxResources } from '../spec/types.js';
import type { Controller, FreezerState } from './controller.js';
import { type CgroupDir, type CgroupWrite, unsupported } from './dir.js';
import { addProcess, createDirs, enableControllers, type Hierarchy, makeHierarchy, processes, removeDirs } from './hierarchy.js';
import { type CgroupHost, type CgroupMode, readCgroupHost } from './mounts.js';
import { resolveCgroupsPath } from './path.js';
import { type CgroupStats, emptyStats } from './stats.js';
import * as v1 from './v1/index.js';
import * as v2 from './v2/index.js';

export interface CgroupOptions {
  /** The host's hierarchies; read from /proc/self/mountinfo when absent (tests pass fake trees). */
  host?: CgroupHost;
  /** Receives every write, in order. */
  journal?: CgroupWrite[];
  /** How long destroy() waits for exiting tasks to leave. Default 5 s. */
  destroyTimeoutMs?: number;
  /** How long freeze()/thaw() wait for the kernel to report it done. Default 2 s. */
  freezeTimeoutMs?: number;
}

export interface Cgroup {
  readonly mode: CgroupMode;
  /** The cgroup's path below every hierarchy root, e.g. `/system.slice/docker-abc.scope`. */
  readonly path: string;
  /** Directory per hierarchy, keyed like runc's state.json cgroup_paths ('' is the unified hierarchy). */
  readonly paths: Record<string, string>;
  /** Create the directories (apply and set do this themselves). */
  create(): void;
  /** Move a process into the cgroup in every hierarchy. */
  apply(pid: number): Promise<void>;
  set(resources: LinuxResources): Promise<void>;
  stats(): Promise<CgroupStats>;
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  state(): Promise<FreezerState>;
  /** Every process in the cgroup and below. */
  pids(): Promise<number[]>;
  /** How many times the OOM killer has killed a process in this cgroup. */
  oomKills(): Promise<number>;
  /** Signal every process, frozen first so that none can fork a child the signal misses. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Remove the cgroup from every hierarchy; fails (naming what is left) rather than leave a directory. */
  destroy(): Promise<void>;
}

/** A resource family: the v1 and v2 controllers that serve the same part of linux.resources. */
interface Family {
  v1?: Controller;
  v2?: Controller;
  /** v2 devices is eBPF, not a controller listed in cgroup.controllers: it applies wherever v1 lacks one. */
  v2Core?: boolean;
}

// runc's order: cpuset before memory (memory migration follows mems), devices early, freezer last.
const FAMILIES: Family[] = [
  { v1: v1.cpuset, v2: v2.cpuset },
  { v1: v1.devices, v2: v2.devices, v2Core: true },
  { v1: v1.memory, v2: v2.memory },
  { v1: v1.cpu, v2: v2.cpu },
  { v1: v1.cpuacct },
  { v1: v1.pids, v2: v2.pids },
  { v1: v1.blkio, v2: v2.io },
  { v1: v1.hugetlb, v2: v2.hugetlb },
];

export function createCgroup(cgroupsPath: string, options: CgroupOptions = {}): Cgroup {
  return new HostCgroup(resolveCgroupsPath(cgroupsPath), options.host ?? readCgroupHost(), options);
}

class HostCgroup implements Cgroup {
  readonly mode: CgroupMode;
  readonly paths: Record<string, string> = {};
  private readonly v1: Hierarchy[];
  private readonly unified: Hierarchy | null;

  constructor(
    readonly path: string,
    host: CgroupHost,
    private readonly options: CgroupOptions,
  ) {
    if (host.mode === 'none') throw new IsolaError('ECGROUP_UNSUPPORTED', 'linux.cgroupsPath: no cgroup filesystem is mounted on this host');
    this.mode = host.mode;
    this.v1 = host.v1.map((h) =>
      makeHierarchy(h.name !== undefined ? `name=${h.name}` : h.controllers.join(','), 1, h.mountpoint, h.controllers, path, options.journal),
    );
    this.unified = host.v2 ? makeHierarchy('', 2, host.v2.mountpoint, host.v2.controllers, path, options.journal) : null;
    for (const h of this.hierarchies()) this.paths[h.key] = h.dir.path;
  }

  private hierarchies(): Hierarchy[] {
    return this.unified ? [...this.v1, this.unified] : this.v1;
  }

  /** The v1 hierarchy bound to `controller`. */
  private v1For(controller: string): Hierarchy | undefined {
    return this.v1.find((h) => h.controllers.includes(controller));
  }

  /** Where a family lives: its v1 hierarchy if there is one, else the unified hierarchy if it offers it. */
  private locate(family: Family): { controller: Controller; hierarchy: Hierarchy } | undefined {
    const v1h = family.v1 && this.v1For(family.v1.name);
    if (family.v1 && v1h) return { controller: family.v1, hierarchy: v1h };
    if (family.v2 && this.unified && (family.v2Core || this.unified.controllers.includes(family.v2.name))) return { controller: family.v2, hierarchy: this.unified };
    return undefined;
  }

  /** Set once create() has made the directories: apply() and set() call it again, and mkdir is not free. */
  private created = false;

  create(): void {
    if (this.created) return;
    for (const h of this.hierarchies()) createDirs(h);
    // On a pure v2 host, make every controller available to the container, as runc does; on a hybrid
    // host the unified controllers are enabled only when a resource needs them, since enabling one in
    // the root affects the whole host.
    if (this.mode === 'v2' && this.unified) enableControllers(this.unified, this.unified.controllers, null);
    this.created = true;
  }

  async apply(pid: number): Promise<void> {
    this.create();
    for (const h of this.hierarchies()) await addProcess(h, pid);
  }

  async set(resources: LinuxResources): Promise<void> {
    // net_cls/net_prio and rdma have no module yet: refuse rather than run the container unlimited.
    if (resources.network?.classID !== undefined || (resources.network?.priorities?.length ?? 0) > 0) throw unsupported('linux.resources.network', 'net_cls/net_prio limits are not supported yet');
    if (Object.keys(resources.rdma ?? {}).length > 0) throw unsupported('linux.resources.rdma', 'rdma limits are not supported yet');
    this.create();
    for (const family of FAMILIES) {
      const wanted = family.v1?.wanted(resources) || family.v2?.wanted(resources);
      if (!wanted) continue;
      const where = this.locate(family);
      if (!where) {
        const c = (family.v1 ?? family.v2)!;
        throw unsupported(c.field, `the ${c.name} cgroup controller is not available on this host`);
      }
      if (where.hierarchy.version === 2 && !family.v2Core) enableControllers(where.hierarchy, [where.controller.name], { field: where.controller.field });
      where.controller.set(where.hierarchy.dir, resources);
    }
    if (Object.keys(resources.unified ?? {}).length > 0) this.setUnified(resources);
  }

  /** Raw v2 key/values, written last so that they can refine anything above (as runc does). */
  private setUnified(resources: LinuxResources): void {
    const field = 'linux.resources.unified';
    if (!this.unified) throw unsupported(field, 'this host has no cgroup v2 hierarchy');
    for (const controller of v2.unifiedControllers(resources)) {
      if (this.v1For(controller)) throw unsupported(field, `the ${controller} controller is bound to a cgroup v1 hierarchy on this host, so it cannot be used through cgroup v2`);
      enableControllers(this.unified, [controller], { field });
    }
    v2.setUnified(this.unified.dir, resources);
  }

  async stats(): Promise<CgroupStats> {
    const stats = emptyStats();
    for (const family of FAMILIES) {
      const where = this.locate(family);
      if (where?.controller.stats && where.hierarchy.dir.exists('cgroup.procs')) where.controller.stats(where.hierarchy.dir, stats);
    }
    return stats;
  }

  /** The v1 freezer hierarchy, else the unified one (cgroup.freeze, kernel 5.2+). */
  private freezer(): { dir: CgroupDir; version: 1 | 2 } {
    const h = this.v1For('freezer');
    if (h) return { dir: h.dir, version: 1 };
    if (this.unified) return { dir: this.unified.dir, version: 2 };
    throw unsupported('freezer', 'this host has neither a v1 freezer hierarchy nor cgroup v2, so containers cannot be paused');
  }

  async freeze(): Promise<void> {
    const { dir, version } = this.freezer();
    const timeout = this.options.freezeTimeoutMs ?? 2000;
    await (version === 1 ? v1.setFrozen(dir, true, timeout) : v2.setFrozen(dir, true, timeout));
  }

  async thaw(): Promise<void> {
    const { dir, version } = this.freezer();
    const timeout = this.options.freezeTimeoutMs ?? 2000;
    await (version === 1 ? v1.setFrozen(dir, false, timeout) : v2.setFrozen(dir, false, timeout));
  }

  async state(): Promise<FreezerState> {
    const { dir, version } = this.freezer();
    return version === 1 ? v1.freezerState(dir) : v2.freezerState(dir);
  }

  /** The hierarchy whose process list counts: pids (or any controller) on v1, the unified one on v2. */
  private main(): Hierarchy {
    if (this.mode === 'v2') return this.unified!;
    return this.v1For('pids') ?? this.v1.find((h) => h.controllers.length > 0) ?? this.hierarchies()[0]!;
  }

  async pids(): Promise<number[]> {
    return processes(this.main().dir);
  }

  async oomKills(): Promise<number> {
    const where = this.locate(FAMILIES[2]!);
    if (!where) throw unsupported('linux.resources.memory', 'the memory cgroup controller is not available on this host');
    return where.hierarchy.version === 1 ? v1.oomKills(where.hierarchy.dir) : v2.oomKills(where.hierarchy.dir);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    // cgroup.kill does it atomically in the kernel (5.14+), forks included.
    if (signal === 'SIGKILL' && this.mode === 'v2' && this.unified?.dir.exists('cgroup.kill')) {
      this.unified.dir.write('cgroup.kill', 1);
      return;
    }
    let frozen = false;
    try {
      await this.freeze();
      frozen = true;
    } catch {
      // Without a freezer, signal anyway: a fork racing the signal is then possible but rare.
    }
    try {
      for (const pid of await this.pids()) {
        try {
          process.kill(pid, signal);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
        }
      }
    } finally {
      // A frozen task cannot act on its signal, so thaw even when signalling failed.
      if (frozen) await this.thaw();
    }
  }

  async destroy(): Promise<void> {
    const timeout = this.options.destroyTimeoutMs ?? 5000;
    this.created = false;
    const failures: unknown[] = [];
    // Every hierarchy is tried even when one fails, so at most the busy directory is left behind.
    for (const h of this.hierarchies()) {
      try {
        await removeDirs(h, timeout);
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) {
      const first = failures[0] instanceof Error ? failures[0].message : String(failures[0]);
      throw new IsolaError('ECGROUP', `${failures.length} hierarchies could not be cleaned; the first: ${first}`, { cause: failures[0], details: { failures } });
    }
  }
}
