// `create`: everything up to the moment the container's process would exec. The child is cloned into
// its namespaces, put in its cgroup, builds its root filesystem and waits; `start` releases it.
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { resolve } from 'node:path';
import { IsolaError } from '@isola/errors';
import { READY, abi, close, getrlimit, kill, open, pipe2, setns, spawnChild, steps as s, unixConnect, waitid, write, procStat, type SpawnedChild, type Step } from '@isola/sys';
import { cgroupHost as hostOf, createCgroup, primeAttach, readCgroupMounts, readControllers } from '../cgroups/index.js';
import { consoleSteps } from '../process/console.js';
import { planProcess } from '../process/plan.js';
import { checkPreservedFds } from '../process/preserve-fds.js';
import { planRootfs, prepareRootfs } from '../rootfs/plan.js';
import { parseSpec } from '../spec/validate.js';
import type { IdMapping, LinuxResources, Spec, State } from '../spec/types.js';
import { type ContainerRecord, StateStore } from '../state/store.js';
import { runHooks } from './hooks.js';
import { deviceRules } from './devices.js';
import { planNamespaces } from './namespaces.js';

export interface CreateOptions {
  id: string;
  /** The bundle directory (config.json and, usually, rootfs/). */
  bundle: string;
  /** Where container state lives (runc's --root). */
  root?: string;
  /** Use this spec instead of reading bundle/config.json. */
  spec?: Spec;
  pidFile?: string;
  consoleSocket?: string;
  warn?: (message: string) => void;
  /** runc's --preserve-fds: fds 3 to 3+N-1 of this process pass into the container's process. */
  preserveFds?: number;
  /** Fault injection for tests: the child's step with this index fails with EBADF. */
  failAtStep?: number;
}

export interface Created {
  record: ContainerRecord;
  /** The child, for callers in this process that want its exec result (run). */
  child: SpawnedChild;
}

export function stateOf(record: ContainerRecord, status: State['status']): State {
  return { ociVersion: record.config.ociVersion, id: record.id, status, pid: record.pid, bundle: record.bundle, annotations: record.annotations };
}

function writeIdMap(pid: number, file: 'uid_map' | 'gid_map', mappings: readonly IdMapping[] | undefined): void {
  if (!mappings?.length) return;
  writeFileSync(`/proc/${pid}/${file}`, mappings.map((m) => `${m.containerID} ${m.hostID} ${m.size}`).join('\n'));
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** A free fd number above everything Node has open, where the child pins each mount target. */
function fixedFd(): number {
  const soft = getrlimit('RLIMIT_NOFILE').soft;
  return Math.min(1000, soft - 3);
}

export async function createContainer(options: CreateOptions): Promise<Created> {
  const store = new StateStore(options.root);
  const bundle = resolve(options.bundle);
  const spec = options.spec ?? parseSpec(readBundleConfig(bundle));
  if (!spec.process) throw new IsolaError('ECONFIG', 'config.json: process: a container needs a process to run');
  if (spec.process.terminal && !options.consoleSocket) throw new IsolaError('ECONFIG', 'config.json: process.terminal is true but no --console-socket was given');
  const rootfs = resolve(bundle, spec.root!.path);
  if (!existsSync(rootfs)) throw new IsolaError('ENOENT', `root.path: ${rootfs} does not exist`);
  const namespaces = planNamespaces(spec.linux?.namespaces);
  const preserveFds = checkPreservedFds(options.preserveFds, fixedFd());
  if (!namespaces.has('mount')) throw new IsolaError('ECONFIG', 'config.json: linux.namespaces: isola needs a mount namespace to build the root filesystem');

  // The child's move into its cgroup waits for an RCU grace period unless one has just passed: start
  // that wait now, so that it passes while the container is planned and cloned (cgroups/prime.ts).
  // The waiting write holds cgroup_mutex, which mkdir in cgroupfs needs too: the cgroup is made after
  // the clone, before the child, which waits for it, goes on.
  const cgroupMounts = readCgroupMounts();
  void primeAttach(cgroupMounts);
  store.claim(options.id);
  const cgroupHost = hostOf(cgroupMounts, readControllers);
  const cgroup = createCgroup(spec.linux?.cgroupsPath || `/isola/${options.id}`, { host: cgroupHost });
  const fds: number[] = [];
  let child: SpawnedChild | undefined;
  try {
    const resources: LinuxResources = { ...spec.linux?.resources, devices: deviceRules(spec) };
    if (cgroup.mode === 'v2') {
      // Device rules on cgroup v2 need an eBPF program isola does not load yet.
      if (spec.linux?.resources?.devices?.length) options.warn?.('linux.resources.devices: not enforced on cgroup v2 yet');
      delete resources.devices;
    }

    const [syncR, syncW] = pipe2();
    fds.push(syncR, syncW);
    const rootfsInput = { spec, rootfs, bundle, fixedFd: fixedFd(), cgroupHost };
    let consoleFd: number | undefined;
    if (spec.process.terminal) {
      consoleFd = unixConnect(resolve(options.consoleSocket!));
      fds.push(consoleFd);
    }
    prepareRootfs(rootfsInput);
    const processPlan = planProcess(spec, rootfs, { preserveFds });
    const rootfsSteps = planRootfs(rootfsInput);
    // createContainer hooks run in the container's namespaces "before pivot_root": the child stops there.
    const hooksBeforePivot = (spec.hooks?.createContainer?.length ?? 0) > 0;
    if (hooksBeforePivot) {
      const fchdir = rootfsSteps.findIndex((st) => st.syscall === 'pivot_root') - 1;
      rootfsSteps.splice(fchdir, 0, READY, { ...s.waitForParentStep(syncR), describe: 'wait for the createContainer hooks' });
    }
    const steps: Step[] = [
      ...namespaces.join,
      s.waitForParentStep(syncR),
      ...(namespaces.unshareCgroup ? [{ syscall: 'unshare', args: [abi.CLONE_NEWCGROUP], describe: 'unshare the cgroup namespace' } as Step] : []),
      ...rootfsSteps,
      ...(consoleFd === undefined ? [] : consoleSteps(consoleFd, rootfsInput.fixedFd + 2, spec.process.consoleSize)),
      ...processPlan.setup,
      READY,
      { ...s.waitForParentStep(syncR), describe: 'wait for start' },
      ...processPlan.exec,
    ];
    if (options.failAtStep !== undefined && options.failAtStep < steps.length) {
      steps[options.failAtStep] = { syscall: 'close', args: [-1], describe: `injected failure in place of ${steps[options.failAtStep]!.describe}` };
    }

    let restorePidNs: number | undefined;
    if (namespaces.pidPath) {
      // setns(CLONE_NEWPID) only decides where this thread's next children go: clone, then come back.
      restorePidNs = open('/proc/self/ns/pid_for_children', abi.O_RDONLY);
      const target = open(namespaces.pidPath, abi.O_RDONLY);
      try {
        setns(target, abi.CLONE_NEWPID, namespaces.pidPath);
      } finally {
        close(target);
      }
    }
    try {
      child = spawnChild({ namespaces: namespaces.cloneFlags, steps });
    } finally {
      if (restorePidNs !== undefined) {
        setns(restorePidNs, abi.CLONE_NEWPID, '/proc/self/ns/pid_for_children');
        close(restorePidNs);
      }
    }
    const pid = child.pid;
    writeIdMap(pid, 'uid_map', spec.linux?.uidMappings);
    writeIdMap(pid, 'gid_map', spec.linux?.gidMappings);
    cgroup.create();
    await cgroup.set(resources);
    await cgroup.apply(pid);
    if (spec.process.oomScoreAdj !== undefined) writeFileSync(`/proc/${pid}/oom_score_adj`, String(spec.process.oomScoreAdj));
    const record: ContainerRecord = {
      id: options.id, pid, startTime: procStat(pid)?.startTime ?? 0, bundle, rootfs, created: new Date().toISOString(),
      cgroupPath: cgroup.path, started: false, syncFd: syncW, annotations: spec.annotations ?? {}, config: spec,
    };
    await runHooks('prestart', spec.hooks, stateOf(record, 'creating'));
    await runHooks('createRuntime', spec.hooks, stateOf(record, 'creating'));
    write(syncW, Buffer.from('c'));
    if (hooksBeforePivot) {
      child.awaitReady();
      const container = { pid, namespaces: new Set(spec.linux?.namespaces?.map((n) => n.type)) };
      await runHooks('createContainer', spec.hooks, stateOf(record, 'creating'), undefined, container);
      write(syncW, Buffer.from('h'));
    }
    child.awaitReady();
    store.write(record);
    if (options.pidFile) writeAtomic(resolve(options.pidFile), String(pid));
    return { record, child };
  } catch (error) {
    if (child) {
      try {
        kill(child.pid, 9);
        waitid({ pid: child.pid });
      } catch {
        // already reaped by awaitReady
      }
    }
    await cgroup.destroy().catch(() => {});
    store.remove(options.id);
    throw error;
  } finally {
    for (const fd of fds) close(fd);
  }
}

function readBundleConfig(bundle: string): string {
  try {
    return readFileSync(resolve(bundle, 'config.json'), 'utf8');
  } catch (error) {
    throw new IsolaError('ENOENT', `bundle ${bundle}: cannot read config.json (${(error as NodeJS.ErrnoException).code})`);
  }
}
