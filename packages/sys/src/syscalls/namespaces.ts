// Namespaces of the calling thread. On Node's main thread unshare affects only that thread (libuv's pool
// keeps the old namespaces), so the container runtime does its namespace work in a cloned child instead.
import * as c from '../abi/constants.js';
import { check } from '../errors.js';
import { libc } from '../libc.js';

const NAMES: Array<[number, string]> = [
  [c.CLONE_NEWNS, 'CLONE_NEWNS'],
  [c.CLONE_NEWUTS, 'CLONE_NEWUTS'],
  [c.CLONE_NEWIPC, 'CLONE_NEWIPC'],
  [c.CLONE_NEWUSER, 'CLONE_NEWUSER'],
  [c.CLONE_NEWPID, 'CLONE_NEWPID'],
  [c.CLONE_NEWNET, 'CLONE_NEWNET'],
  [c.CLONE_NEWCGROUP, 'CLONE_NEWCGROUP'],
  [c.CLONE_NEWTIME, 'CLONE_NEWTIME'],
];

export function describeCloneFlags(flags: number): string {
  const names = NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
  const rest = NAMES.reduce((left, [bit]) => left & ~bit, flags);
  if (rest !== 0 || names.length === 0) names.push(`0x${rest.toString(16)}`);
  return names.join('|');
}

export function unshare(flags: number): void {
  check(libc.unshare(flags), 'unshare', () => describeCloneFlags(flags));
}

/** Joins the namespace behind `fd` (from open("/proc/PID/ns/net")); nstype 0 accepts any kind. */
export function setns(fd: number, nstype = 0, path?: string): void {
  check(libc.setns(fd, nstype), 'setns', () => (path === undefined ? `${fd}` : JSON.stringify(path)) + (nstype ? `, ${describeCloneFlags(nstype)}` : ''));
}
