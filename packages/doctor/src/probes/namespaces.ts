import { readFileSync, readdirSync } from 'node:fs';
import { type Check, check } from '../check.js';

export interface NamespaceDetails {
  available: string[];
  /** /proc/sys/user/max_user_namespaces; 0 disables user namespaces. */
  maxUserNamespaces: number | null;
}

const NEEDED = ['mnt', 'pid', 'uts', 'ipc', 'net'];
const KNOWN = ['mnt', 'pid', 'uts', 'ipc', 'net', 'user', 'cgroup', 'time'];

export function probeNamespaces(procNs = '/proc/self/ns'): Check<NamespaceDetails> {
  const entries = new Set(readdirSync(procNs));
  const available = KNOWN.filter((ns) => entries.has(ns));
  let maxUserNamespaces: number | null = null;
  try {
    maxUserNamespaces = Number.parseInt(readFileSync('/proc/sys/user/max_user_namespaces', 'utf8'), 10);
  } catch {
    // no user namespaces in this kernel
  }
  const lacking = NEEDED.filter((ns) => !entries.has(ns));
  if (lacking.length > 0) return check('missing', true, `missing ${lacking.join(', ')} namespaces`, { available, maxUserNamespaces });
  const userOff = maxUserNamespaces === 0 || !entries.has('user');
  return check(userOff ? 'warn' : 'ok', true, available.join(' ') + (userOff ? ' (user namespaces disabled)' : ''), { available, maxUserNamespaces });
}
