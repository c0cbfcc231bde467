// Entering a live container's namespaces from a new child: `exec`, and the createContainer and
// startContainer hooks, which the spec runs "in the container namespace".
import { abi, close, open, setns, steps as s, type Step } from '@isola/sys';
import type { NamespaceType } from '../spec/types.js';
import { CLONE_FLAGS } from './namespaces.js';

const PROC_NS: Record<NamespaceType, string> = { user: 'user', ipc: 'ipc', uts: 'uts', network: 'net', cgroup: 'cgroup', mount: 'mnt', pid: 'pid', time: 'time' };
/** The user namespace first (it decides what the later setns calls may do), the mount namespace last. */
const JOIN_ORDER: NamespaceType[] = ['user', 'ipc', 'uts', 'network', 'cgroup', 'mount'];
const SLOT = 7;

/** Child steps that setns into each of `types` as process `pid` has them (pid aside: see inPidNamespaceOf). */
export function joinSteps(pid: number, types: ReadonlySet<NamespaceType>): Step[] {
  const steps: Step[] = [];
  for (const type of JOIN_ORDER) {
    if (!types.has(type)) continue;
    const path = `/proc/${pid}/ns/${PROC_NS[type]}`;
    steps.push(s.openStep(path, abi.O_RDONLY, SLOT), s.setnsStep(SLOT, CLONE_FLAGS[type], path), s.closeSlotStep(SLOT, `close(${path})`));
  }
  return steps;
}

/**
 * Runs `spawn` with this thread's children going into `pid`'s PID namespace (setns(CLONE_NEWPID) only
 * decides where the next child goes), then comes back.
 */
export function inPidNamespaceOf<T>(pid: number, join: boolean, spawn: () => T): T {
  if (!join) return spawn();
  const restore = open('/proc/self/ns/pid_for_children', abi.O_RDONLY | abi.O_CLOEXEC);
  try {
    const target = open(`/proc/${pid}/ns/pid`, abi.O_RDONLY | abi.O_CLOEXEC);
    try {
      setns(target, abi.CLONE_NEWPID, `/proc/${pid}/ns/pid`);
    } finally {
      close(target);
    }
    return spawn();
  } finally {
    setns(restore, abi.CLONE_NEWPID, '/proc/self/ns/pid_for_children');
    close(restore);
  }
}
