// linux.namespaces → clone flags for new namespaces, and child steps that join existing ones by path.
import { IsolaError } from '@isola/errors';
import { abi, steps as s, type Step } from '@isola/sys';
import type { Namespace, NamespaceType } from '../spec/types.js';

export const CLONE_FLAGS: Record<NamespaceType, number> = {
  pid: abi.CLONE_NEWPID, network: abi.CLONE_NEWNET, mount: abi.CLONE_NEWNS, ipc: abi.CLONE_NEWIPC, uts: abi.CLONE_NEWUTS,
  user: abi.CLONE_NEWUSER, cgroup: abi.CLONE_NEWCGROUP, time: abi.CLONE_NEWTIME,
};

/** The user namespace is joined first: it decides what the later setns calls may do. */
const JOIN_ORDER: NamespaceType[] = ['user', 'ipc', 'uts', 'network', 'cgroup', 'mount'];

export interface NamespacePlan {
  /** New namespaces made by clone() itself. */
  cloneFlags: number;
  /** A new cgroup namespace is unshared by the child once it is in its cgroup, so the cgroup is its root. */
  unshareCgroup: boolean;
  /** setns steps for namespaces given by path (except pid, which the parent joins before clone). */
  join: Step[];
  /** A pid namespace to join: the parent enters it for its children before clone(). */
  pidPath?: string;
  has: (type: NamespaceType) => boolean;
}

export function planNamespaces(namespaces: readonly Namespace[] = []): NamespacePlan {
  const plan: NamespacePlan = { cloneFlags: 0, unshareCgroup: false, join: [], has: (t) => namespaces.some((n) => n.type === t) };
  for (const ns of namespaces) {
    if (ns.type === 'time') throw new IsolaError('EUNSUPPORTED', 'config.json: linux.namespaces: time namespaces are not supported yet');
    if (ns.path) continue;
    if (ns.type === 'cgroup') plan.unshareCgroup = true;
    else plan.cloneFlags |= CLONE_FLAGS[ns.type];
  }
  for (const type of JOIN_ORDER) {
    const ns = namespaces.find((n) => n.type === type && n.path);
    if (!ns) continue;
    plan.join.push(s.openStep(ns.path!, abi.O_RDONLY, 7), s.setnsStep(7, CLONE_FLAGS[type], ns.path!), s.closeSlotStep(7, `close(${ns.path})`));
  }
  plan.pidPath = namespaces.find((n) => n.type === 'pid' && n.path)?.path;
  return plan;
}
