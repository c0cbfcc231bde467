// Processes and threads: identity, signals, pidfds, waiting, exec.
import * as c from '../abi/constants.js';
import * as s from '../abi/structs.js';
import { check, q } from '../errors.js';
import { libc } from '../libc.js';
import { closeRange, setCloseOnExec } from './files.js';

export function sethostname(name: string): void {
  check(libc.sethostname(name, Buffer.byteLength(name)), 'sethostname', () => q(name));
}

export function setdomainname(name: string): void {
  check(libc.setdomainname(name, Buffer.byteLength(name)), 'setdomainname', () => q(name));
}

export function prctl(option: number, arg2: number = 0, arg3 = 0, arg4 = 0, arg5 = 0): number {
  return check(libc.prctl(option, arg2, arg3, arg4, arg5), 'prctl', () => `${option}, ${arg2}`);
}

export function kill(pid: number, signal: number): void {
  check(libc.kill(pid, signal), 'kill', () => `${pid}, ${signal}`);
}

/** The calling thread's kernel thread id (what tgkill targets). */
export function gettid(): number {
  return libc.gettid();
}

export function tgkill(tgid: number, tid: number, signal: number): void {
  check(libc.tgkill(tgid, tid, signal), 'tgkill', () => `${tgid}, ${tid}, ${signal}`);
}

export function pidfdOpen(pid: number): number {
  return check(libc.pidfd_open(pid, 0), 'pidfd_open', () => `${pid}`);
}

export function pidfdSendSignal(pidfd: number, signal: number): void {
  check(libc.pidfd_send_signal(pidfd, signal, null, 0), 'pidfd_send_signal', () => `${pidfd}, ${signal}`);
}

/** A copy of another process's fd `targetFd` (with close-on-exec), as pidfd_getfd(2) makes it. */
export function pidfdGetfd(pidfd: number, targetFd: number): number {
  return check(libc.pidfd_getfd(pidfd, targetFd, 0), 'pidfd_getfd', () => `${pidfd}, ${targetFd}`);
}

export type ChildState =
  | { kind: 'exited'; pid: number; status: number }
  | { kind: 'killed'; pid: number; signal: number; coreDumped: boolean }
  | { kind: 'stopped' | 'trapped' | 'continued'; pid: number; signal: number };

export type WaitTarget = { pid: number } | { pidfd: number } | 'any';

/**
 * waitid(); returns null with WNOHANG when no child has changed state yet. Flags default to WEXITED.
 */
export function waitid(target: WaitTarget, flags = c.WEXITED): ChildState | null {
  const [idtype, id] = target === 'any' ? [c.P_ALL, 0] : 'pid' in target ? [c.P_PID, target.pid] : [c.P_PIDFD, target.pidfd];
  const info = Buffer.alloc(s.siginfo.size);
  check(libc.waitid(idtype, id, info, flags), 'waitid', () => (target === 'any' ? 'P_ALL' : JSON.stringify(target)));
  const pid = info.readInt32LE(s.siginfo.si_pid);
  if (pid === 0) return null;
  const code = info.readInt32LE(s.siginfo.si_code);
  const status = info.readInt32LE(s.siginfo.si_status);
  switch (code) {
    case c.CLD_EXITED:
      return { kind: 'exited', pid, status };
    case c.CLD_KILLED:
    case c.CLD_DUMPED:
      return { kind: 'killed', pid, signal: status, coreDumped: code === c.CLD_DUMPED };
    case c.CLD_STOPPED:
      return { kind: 'stopped', pid, signal: status };
    case c.CLD_TRAPPED:
      return { kind: 'trapped', pid, signal: status };
    default:
      return { kind: 'continued', pid, signal: status };
  }
}

/**
 * Replaces this process image. Node marks fds 0-2 close-on-exec and may hold other fds open, so this
 * makes 0-2 inheritable and marks everything above close-on-exec first; it returns only by throwing.
 */
export function execve(path: string, argv: string[], env: string[]): never {
  for (const fd of [0, 1, 2]) setCloseOnExec(fd, false);
  closeRange(3, 0xffffffff, c.CLOSE_RANGE_CLOEXEC);
  check(libc.execve(path, [...argv, null], [...env, null]), 'execve', () => q(path));
  throw new Error('unreachable: execve returned without an error');
}
