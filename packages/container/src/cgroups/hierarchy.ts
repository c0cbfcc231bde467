// Directory-level work on one hierarchy: making the cgroup's directories (and preparing each level the
// kernel needs prepared), enabling v2 controllers down the tree, moving a process in, listing and
// removing. The manager runs these once per hierarchy.
import { mkdirSync, rmdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { IsolaError } from '@isola/errors';
import { CgroupDir, type CgroupWrite, errnoOf } from './dir.js';
import { initCpuset } from './v1/cpuset.js';

export interface Hierarchy {
  /** 'cpu', 'cpu,cpuacct', 'name=systemd' for v1; '' for the unified hierarchy (runc's state.json keys). */
  key: string;
  version: 1 | 2;
  mountpoint: string;
  /** v1: the controllers bound here; v2: those the root offers. */
  controllers: string[];
  root: CgroupDir;
  /** The container's cgroup in this hierarchy. */
  dir: CgroupDir;
}

export function makeHierarchy(key: string, version: 1 | 2, mountpoint: string, controllers: string[], path: string, journal?: CgroupWrite[]): Hierarchy {
  const root = new CgroupDir(mountpoint, journal);
  let dir = root;
  for (const part of path.split('/').filter(Boolean)) dir = dir.child(part);
  return { key, version, mountpoint, controllers, root, dir };
}

/** The directories from the first level below the root down to the cgroup itself. */
function levels(h: Hierarchy): CgroupDir[] {
  const out: CgroupDir[] = [];
  let dir = h.root;
  for (const part of h.dir.path.slice(h.root.path.length).split('/').filter(Boolean)) {
    dir = dir.child(part);
    out.push(dir);
  }
  return out;
}

/** mkdir -p, readying each new v1 cpuset level: a task cannot join a cpuset whose cpus or mems are empty. */
export function createDirs(h: Hierarchy): void {
  const cpuset = h.version === 1 && h.controllers.includes('cpuset');
  for (const level of levels(h)) {
    try {
      mkdirSync(level.path);
    } catch (error) {
      if (errnoOf(error) !== 'EEXIST') throw new IsolaError('ECGROUP', `create cgroup ${level.path}: ${errnoOf(error)}`, { cause: error, details: { path: level.path } });
    }
    if (cpuset) initCpuset(level);
  }
}

/**
 * Make `controllers` available in the cgroup by enabling them in cgroup.subtree_control of every
 * ancestor, root first. With `strict`, a controller an ancestor cannot offer is an error naming `field`;
 * without, it is skipped (used to enable "everything there is" on v2 hosts, as runc does).
 */
export function enableControllers(h: Hierarchy, controllers: string[], strict: { field: string } | null): void {
  const ancestors = [h.root, ...levels(h).slice(0, -1)];
  for (const ancestor of ancestors) {
    const offered = new Set(ancestor.read('cgroup.controllers').split(/\s+/).filter(Boolean));
    const enabled = new Set(ancestor.read('cgroup.subtree_control').split(/\s+/).filter(Boolean));
    for (const controller of controllers) {
      if (enabled.has(controller)) continue;
      if (!offered.has(controller)) {
        if (strict) throw new IsolaError('ECGROUP_UNSUPPORTED', `${strict.field}: the ${controller} controller is not available in ${ancestor.path}`, { details: { field: strict.field, controller } });
        continue;
      }
      // EBUSY here means the ancestor holds processes itself (v2's "no internal processes" rule).
      ancestor.write('cgroup.subtree_control', `+${controller}`, strict?.field);
    }
  }
}

/** Move a whole process (all its threads) into the cgroup. */
export async function addProcess(h: Hierarchy, pid: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const error = h.dir.tryWrite('cgroup.procs', pid);
    if (!error) return;
    // EINVAL can mean the task is still TASK_NEW (just forked); runc retries the same way.
    if (error.code === 'EINVAL' && attempt < 5) {
      await sleep(30);
      continue;
    }
    throw new IsolaError('ECGROUP', `add process ${pid} to ${h.dir.path}: ${error.code ?? error.message}`, { cause: error, details: { path: h.dir.path, pid } });
  }
}

/** Pids in the cgroup and every cgroup below it. */
export function processes(dir: CgroupDir): number[] {
  const pids = (dir.readOptional('cgroup.procs') ?? '').split('\n').filter(Boolean).map(Number);
  for (const child of dir.children()) pids.push(...processes(child));
  return pids;
}

/**
 * The cgroup and the cgroups below it; a directory already gone counts as removed. rmdir comes first:
 * a container's cgroup rarely has children, and listing each hierarchy's directory is not free.
 */
function removeTree(dir: CgroupDir): void {
  try {
    rmdirSync(dir.path);
    return;
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'ENOENT') return;
    const children = code === 'EBUSY' || code === 'ENOTEMPTY' ? dir.children() : [];
    if (children.length === 0) throw error;
    for (const child of children) removeTree(child);
  }
  try {
    rmdirSync(dir.path);
  } catch (error) {
    if (errnoOf(error) !== 'ENOENT') throw error;
  }
}

/**
 * Remove the cgroup (and any cgroups below it), waiting while exiting tasks drain: a killed process
 * keeps its cgroup busy (EBUSY) until its parent has reaped it.
 */
export async function removeDirs(h: Hierarchy, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    try {
      removeTree(h.dir);
      return;
    } catch (error) {
      if (errnoOf(error) !== 'EBUSY' || Date.now() > deadline) {
        const left = processes(h.dir);
        throw new IsolaError('ECGROUP', `remove cgroup ${h.dir.path}: ${errnoOf(error)}${left.length ? ` (processes still inside: ${left.join(' ')})` : ''}`, {
          cause: error,
          details: { path: h.dir.path, pids: left },
        });
      }
    }
    await sleep(delay);
  }
}
