// `exec`: run another process in a running container: it joins the container's namespaces and cgroup,
// and gets its own identity, capabilities and seccomp filter as the process spec says.
import { renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { IsolaError } from '@isola/errors';
import { close, getrlimit, kill, pipe2, spawnChild, steps as s, unixConnect, waitid, write, type SpawnedChild, type Step } from '@isola/sys';
import { consoleSteps } from '../process/console.js';
import { createCgroup } from '../cgroups/index.js';
import { planProcess } from '../process/plan.js';
import { checkPreservedFds } from '../process/preserve-fds.js';
import type { Process } from '../spec/types.js';
import { StateStore } from '../state/store.js';
import { inPidNamespaceOf, joinSteps } from './join.js';
import { statusOf } from './status.js';
import { waitForExit } from './wait.js';

export interface ExecOptions {
  id: string;
  process: Process;
  root?: string;
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  /** runc's --preserve-fds: fds 3 to 3+N-1 of this process pass into the new process. */
  preserveFds?: number;
}

/** Returns the process's exit status, or 0 when detached. */
export async function execInContainer(options: ExecOptions): Promise<number> {
  const record = new StateStore(options.root).read(options.id);
  if ((await statusOf(record)) !== 'running') throw new IsolaError('ESTATE', `cannot exec in container "${options.id}": it is not running`);
  if (options.process.terminal && !options.consoleSocket) throw new IsolaError('EUSAGE', 'exec with a terminal needs --console-socket');
  const types = new Set((record.config.linux?.namespaces ?? []).map((n) => n.type));
  const join = joinSteps(record.pid, types);
  const spec = { ...record.config, hostname: undefined, domainname: undefined, process: options.process };
  // The program is looked up in the container's own view of its root: the host path may no longer be
  // mounted there (isola's engine unmounts it once the init holds it), and mounts made inside count.
  const fdLimit = Math.min(1000, getrlimit('RLIMIT_NOFILE').soft - 1);
  const plan = planProcess(spec, `/proc/${record.pid}/root`, { preserveFds: checkPreservedFds(options.preserveFds, fdLimit) });
  const [syncR, syncW] = pipe2();
  let consoleFd: number | undefined;
  let child: SpawnedChild | undefined;
  try {
    consoleFd = options.process.terminal ? unixConnect(resolve(options.consoleSocket!)) : undefined;
    const tty = consoleFd === undefined ? [] : consoleSteps(consoleFd, fdLimit, options.process.consoleSize);
    const steps: Step[] = [...join, s.waitForParentStep(syncR), ...tty, ...plan.setup, ...plan.exec];
    child = inPidNamespaceOf(record.pid, types.has('pid'), () => spawnChild({ steps }));
    await createCgroup(record.cgroupPath).apply(child.pid);
    write(syncW, Buffer.from('x'));
    child.awaitSteps();
  } catch (error) {
    try {
      if (child) {
        kill(child.pid, 9);
        waitid({ pid: child.pid });
      }
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
