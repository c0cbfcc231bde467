// Seccomp actions as the 32-bit values a filter returns (SECCOMP_RET_* in <linux/seccomp.h>): the
// action in the high 16 bits, data (an errno, a ptrace message) in the low 16.
import type { SeccompAction } from '../spec/types.js';

export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
  ACTION_FULL: 0xffff0000,
  DATA: 0x0000ffff,
} as const;

export const EPERM = 1;
export const ENOSYS = 38;

export const SECCOMP_ACTIONS: readonly SeccompAction[] = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
];

/**
 * The filter's return value for an action. ERRNO and TRACE carry `errnoRet`, EPERM when absent (as
 * runc does); SCMP_ACT_KILL is libseccomp's name for killing the thread.
 */
export function actionValue(action: Exclude<SeccompAction, 'SCMP_ACT_NOTIFY'>, errnoRet = EPERM): number {
  switch (action) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SECCOMP_RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return SECCOMP_RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return SECCOMP_RET.TRAP;
    case 'SCMP_ACT_ERRNO':
      return (SECCOMP_RET.ERRNO | (errnoRet & SECCOMP_RET.DATA)) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (SECCOMP_RET.TRACE | (errnoRet & SECCOMP_RET.DATA)) >>> 0;
    case 'SCMP_ACT_LOG':
      return SECCOMP_RET.LOG;
    case 'SCMP_ACT_ALLOW':
      return SECCOMP_RET.ALLOW;
  }
}

/** Actions that let the syscall run: runc adds no -ENOSYS stub under such a default. */
export function letsSyscallRun(value: number): boolean {
  const action = (value & SECCOMP_RET.ACTION_FULL) >>> 0;
  return action === SECCOMP_RET.ALLOW || action === SECCOMP_RET.LOG || action === SECCOMP_RET.TRACE;
}
