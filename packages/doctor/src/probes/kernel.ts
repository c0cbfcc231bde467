import { readFileSync } from 'node:fs';
import { arch, release } from 'node:os';
import { type Check, check } from '../check.js';

export interface KernelDetails {
  release: string;
  version: string;
  arch: string;
}

export function probeKernel(): Check<KernelDetails> {
  const details = { release: release(), version: readFileSync('/proc/sys/kernel/version', 'utf8').trim(), arch: arch() };
  const [major = 0, minor = 0] = details.release.split('.').map((n) => Number.parseInt(n, 10));
  // pidfd_open and clone3 (5.3), close_range (5.9) and overlay in user namespaces (5.11) are used freely.
  const recent = major > 5 || (major === 5 && minor >= 11);
  return check(recent ? 'ok' : 'warn', false, `Linux ${details.release} (${details.arch})${recent ? '' : ', older than 5.11'}`, details);
}
