// Constructors for the steps a container's PID 1 runs before execve, each naming itself the way the
// syscall wrappers do, so that a failure reads `step 4, mount("proc" on "/proc"): EPERM`.
import * as c from '../abi/constants.js';
import { describeMountFlags } from '../syscalls/mounts.js';
import { type Step, slot } from './program.js';

const q = JSON.stringify;

export function mountStep(source: string | null, target: string, fstype: string | null, flags = 0, data: string | null = null): Step {
  const parts = [`${q(source ?? fstype ?? 'none')} on ${q(target)}`];
  if (flags) parts.push(describeMountFlags(flags));
  return { syscall: 'mount', args: [source, target, fstype, flags, data], describe: `mount(${parts.join(', ')})` };
}

export const sethostnameStep = (name: string): Step => ({
  syscall: 'sethostname', args: [name, Buffer.byteLength(name)], describe: `sethostname(${q(name)})`,
});

export const chdirStep = (path: string): Step => ({ syscall: 'chdir', args: [path], describe: `chdir(${q(path)})` });

export const pivotRootStep = (newRoot: string, putOld: string): Step => ({
  syscall: 'pivot_root', args: [newRoot, putOld], describe: `pivot_root(${q(newRoot)}, ${q(putOld)})`,
});

export const umount2Step = (target: string, flags = 0): Step => ({ syscall: 'umount2', args: [target, flags], describe: `umount2(${q(target)})` });

export const dup2Step = (from: number, to: number): Step => ({ syscall: 'dup2', args: [from, to], describe: `dup2(${from}, ${to})` });

/** Opens a path into a slot, for later steps that take the fd (setns, fchdir, mounts through /proc/self/fd). */
export const openStep = (path: string, flags: number, saveTo: number): Step => ({
  syscall: 'openat', args: [c.AT_FDCWD, path, flags | c.O_CLOEXEC, 0], describe: `open(${q(path)})`, saveTo,
});

/** Joins the namespace whose fd an openStep saved in `fromSlot`. */
export const setnsStep = (fromSlot: number, nstype: number, path: string): Step => ({
  syscall: 'setns', args: [slot(fromSlot), nstype], describe: `setns(${q(path)})`,
});

export const closeSlotStep = (fromSlot: number, describe = `close(slot ${fromSlot})`): Step => ({
  syscall: 'close', args: [slot(fromSlot)], describe,
});

export const prctlStep = (option: number, arg2: number | bigint = 0, describe = `prctl(${option})`): Step => ({
  syscall: 'prctl', args: [option, arg2, 0, 0, 0], describe,
});

export const closeRangeCloexecStep = (first: number): Step => ({
  syscall: 'close_range', args: [first, 0xffffffff, c.CLOSE_RANGE_CLOEXEC], describe: `close_range(${first}, ~0, CLOEXEC)`,
});

/**
 * Blocks until the parent writes a byte: the create/start split of a container. Closing the write end
 * alone does not release it while the child still holds its inherited copy of that end.
 */
export const waitForParentStep = (fd: number): Step => ({
  syscall: 'read', args: [fd, new Uint8Array(8), 1], describe: `read(${fd}) waiting for the runtime`,
});

/**
 * Default dispositions for every signal, then an empty signal mask: Node's handlers must not run in the
 * child, and SIG_IGN (Node ignores SIGPIPE) would otherwise survive execve.
 */
export function resetSignalsSteps(): Step[] {
  const sigaction = new Uint8Array(32); // handler SIG_DFL, no flags, no restorer, empty mask
  const steps: Step[] = [];
  for (let signal = 1; signal <= 64; signal++) {
    if (signal === 9 || signal === 19) continue; // SIGKILL and SIGSTOP cannot be changed
    steps.push({ syscall: 'rt_sigaction', args: [signal, sigaction, null, 8], describe: `rt_sigaction(${signal})`, ignoreFailure: true });
  }
  steps.push({ syscall: 'rt_sigprocmask', args: [c.SIG_SETMASK, new Uint8Array(8), null, 8], describe: 'rt_sigprocmask(SIG_SETMASK, {})' });
  return steps;
}

export function execveStep(path: string, argv: readonly string[], env: readonly string[]): Step {
  return { syscall: 'execve', args: [path, argv, env], describe: `execve(${q(path)})` };
}

export const exitStep = (status: number): Step => ({ syscall: 'exit_group', args: [status], describe: `exit_group(${status})` });

export const writeStep = (fd: number, data: string | Uint8Array): Step => {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  return { syscall: 'write', args: [fd, bytes, bytes.byteLength], describe: `write(${fd}, ${bytes.byteLength} bytes)` };
};

/**
 * Installs a classic BPF seccomp filter (an array of 8-byte sock_filter instructions) with
 * seccomp(SECCOMP_SET_MODE_FILTER). Needs no_new_privs first unless the child has CAP_SYS_ADMIN.
 */
export function seccompStep(filter: Uint8Array, flags = 0): Step {
  if (filter.byteLength % 8 !== 0 || filter.byteLength === 0 || filter.byteLength / 8 > 4096) {
    throw new RangeError(`a seccomp filter is 1 to 4096 8-byte instructions, not ${filter.byteLength} bytes`);
  }
  const fprog = new Uint8Array(16); // struct sock_fprog { u16 len; (pad); struct sock_filter *filter; }
  new DataView(fprog.buffer).setUint16(0, filter.byteLength / 8, true);
  const SECCOMP_SET_MODE_FILTER = 1;
  return {
    syscall: 'seccomp',
    args: [SECCOMP_SET_MODE_FILTER, flags, { bytes: fprog, pointers: [[8, filter]] }],
    describe: `seccomp(SECCOMP_SET_MODE_FILTER, ${filter.byteLength / 8} instructions)`,
  };
}
