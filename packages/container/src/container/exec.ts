// `exec`: run another process in a running container: it joins the container's namespaces and cgroup,
// and gets its own identity, capabilities and seccomp filter as the process spec says.
import { renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { IsolaError } from '@isola/errors';
import { abi, close, getrlimit, kill, open, pipe2, setns, spawnChild, steps as s, unixConnect, waitid, write, type Step } from '@isola/sys';
import { consoleSteps } from '../process/console.js';
import { createCgroup } from '../cgroups/index.js';
import { planProcess } from '../process/plan.js';
import type { NamespaceType, Process } from '../spec/types.js';
import { StateStore } from '../state/store.js';
import { CLONE_FLAGS } from './namespaces.js';
import { statusOf } from './status.js';
import { waitForExit } from './wait.js';

const PROC_NS: Record<NamespaceType, string> = { user: 'user', ipc: 'ipc', uts: 'uts', network: 'net', cgroup: 'cgroup', mount: 'mnt', pid: 'pid', time: 'time' };
const JOIN_ORDER: NamespaceType[] = ['user', 'ipc', 'uts', 'network', 'cgroup', 'mount'];

export interface ExecOptions {
  id: string;
  process: Process;
  root?: string;
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
}

/** Returns the process's exit status, or 0 when detached. */
export async function execInContainer(options: ExecOptions): Promise<number> {
  const record = new StateStore(options.root).read(options.id);
  if ((await statusOf(record)) !== 'running') throw new IsolaError('ESTATE', `cannot exec in container "${options.id}": it is not running`);
  if (options.process.terminal && !options.consoleSocket) throw new IsolaError('EUSAGE', 'exec with a terminal needs --console-socket');
  const types = new Set((record.config.linux?.namespaces ?? []).map((n) => n.type));
  const join: Step[] = [];
  for (const type of JOIN_ORDER) {
    if (!types.has(type)) continue;
    const path = `/proc/${record.pid}/ns/${PROC_NS[type]}`;
    join.push(s.openStep(path, abi.O_RDONLY, 7), s.setnsStep(7, CLONE_FLAGS[type], path), s.closeSlotStep(7, `close(${path})`));
  }
  const spec = { ...record.config, hostname: undefined, domainname: undefined, process: options.process };
  const plan = planProcess(spec, record.rootfs);
  const [syncR, syncW] = pipe2();
  const consoleFd = options.process.terminal ? unixConnect(resolve(options.consoleSocket!)) : undefined;
  const tty = consoleFd === undefined ? [] : consoleSteps(consoleFd, Math.min(1000, getrlimit('RLIMIT_NOFILE').soft - 1), options.process.consoleSize);
  const steps: Step[] = [...join, s.waitForParentStep(syncR), ...tty, ...plan.setup, ...plan.exec];

  let restore: number | undefined;
  if (types.has('pid')) {
    restore = open('/proc/self/ns/pid_for_children', abi.O_RDONLY);
    const target = open(`/proc/${record.pid}/ns/pid`, abi.O_RDONLY);
    try {
      setns(target, abi.CLONE_NEWPID, `/proc/${record.pid}/ns/pid`);
    } finally {
      close(target);
    }
  }
  let child;
  try {
    child = spawnChild({ steps });
  } finally {
    if (restore !== undefined) {
      setns(restore, abi.CLONE_NEWPID, '/proc/self/ns/pid_for_children');
      close(restore);
    }
  }
  try {
    await createCgroup(record.cgroupPath).apply(child.pid);
    write(syncW, Buffer.from('x'));
    child.awaitSteps();
  } catch (error) {
    try {
      kill(child.pid, 9);
      waitid({ pid: child.pid });
    } catch {
      // already gone
    }
    throw error;
  } finally {
    close(syncR);
    close(syncW);
    if (consoleFd !== undefined) close(consoleFd);
  }
  if (options.pidFile) {
    const path = resolve(options.pidFile);
    writeFileSync(`${path}.tmp`, String(child.pid));
    renameSync(`${path}.tmp`, path);
  }
  if (options.detach) return 0;
  return (await waitForExit(child.pid, 0)) ?? 0;
}
