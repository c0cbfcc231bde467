// The steps that turn the child into the container's process: hostname, working directory, limits, user
// and groups, capabilities, no_new_privs, seccomp, and execve. Order follows runc: everything that needs
// privilege runs before the user switch, and seccomp comes last when no_new_privs allows it, so that the
// filter only ever sees the program's own syscalls.
import { accessSync, constants, statSync } from 'node:fs';
import { posix } from 'node:path';
import { IsolaError } from '@isola/errors';
import { abi, capabilityMask, encodeCapabilitySets, type Step } from '@isola/sys';
import { compileSeccomp } from '../seccomp/index.js';
import { secureJoin } from '../rootfs/secure-join.js';
import type { Mount, Process, Spec } from '../spec/types.js';

/**
 * Where `candidate` (a path in the container) is on the host before the container exists: under the
 * source of the last bind mount whose destination contains it (mounts stack in order), else in the rootfs.
 */
function hostPath(candidate: string, rootfs: string, mounts: readonly Mount[]): string {
  for (const mount of [...mounts].reverse()) {
    const bind = mount.type === 'bind' || (mount.options ?? []).some((o) => o === 'bind' || o === 'rbind');
    if (!bind || mount.source === undefined) continue;
    const destination = posix.normalize(mount.destination);
    if (candidate === destination) return mount.source;
    if (candidate.startsWith(`${destination}/`)) return secureJoin(mount.source, candidate.slice(destination.length));
  }
  return secureJoin(rootfs, candidate);
}

/**
 * Resolves process.args[0] against PATH inside the container, as `exec` there would: in the rootfs and
 * in what bind mounts put over it (`-v DIR:/x` then `/x/prog`). The child checks it again (faccessat)
 * once the mounts are really there.
 */
export function resolveExecutable(process: Process, rootfs: string, mounts: readonly Mount[] = []): string {
  const name = process.args![0]!;
  const env = process.env ?? [];
  const path = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  const candidates = name.includes('/') ? [posix.resolve(process.cwd, name)] : path.split(':').filter(Boolean).map((dir) => posix.join(dir, name));
  for (const candidate of candidates) {
    const host = hostPath(candidate, rootfs, mounts);
    try {
      if (statSync(host).isFile()) {
        accessSync(host, constants.X_OK);
        return candidate;
      }
    } catch {
      // try the next one
    }
  }
  throw new IsolaError('ENOEXEC', `exec: ${JSON.stringify(name)}: executable file not found in ${name.includes('/') ? rootfs : `$PATH (${path})`}`);
}

function capabilitySteps(process: Process): Step[] {
  const caps = process.capabilities ?? {};
  const bounding = capabilityMask(caps.bounding ?? []);
  const steps: Step[] = [];
  // Drop what is not in the bounding set while still privileged (CAP_SETPCAP).
  abi.CAPABILITIES.forEach((name, bit) => {
    if (!(bounding & (1n << BigInt(bit)))) {
      steps.push({ syscall: 'prctl', args: [abi.PR_CAPBSET_DROP, bit, 0, 0, 0], describe: `drop ${name} from the bounding set`, ignoreFailure: true });
    }
  });
  return steps;
}

function capsetStep(process: Process): Step {
  const caps = process.capabilities ?? {};
  const { header, data } = encodeCapabilitySets({
    effective: capabilityMask(caps.effective ?? []),
    permitted: capabilityMask(caps.permitted ?? []),
    inheritable: capabilityMask(caps.inheritable ?? []),
  });
  return { syscall: 'capset', args: [header, data], describe: 'capset(effective, permitted, inheritable)' };
}

function rlimitSteps(process: Process): Step[] {
  return (process.rlimits ?? []).map((limit) => {
    const resource = abi.RLIMITS.indexOf(limit.type as abi.RlimitName);
    if (resource < 0) throw new IsolaError('ECONFIG', `config.json: process.rlimits: unknown limit ${JSON.stringify(limit.type)}`);
    const value = Buffer.alloc(16);
    value.writeBigUInt64LE(BigInt.asUintN(64, BigInt(limit.soft)), 0);
    value.writeBigUInt64LE(BigInt.asUintN(64, BigInt(limit.hard)), 8);
    return { syscall: 'prlimit64', args: [0, resource, value, null], describe: `set ${limit.type} to ${limit.soft}:${limit.hard}` } as Step;
  });
}

export interface ProcessPlan {
  /** Run before the process waits to be started: they can fail, and create should see that. */
  setup: Step[];
  /** Run after `start`: identity, privileges, filter, exec. */
  exec: Step[];
  /** Syscall names of the seccomp profile this kernel does not know, for a warning. */
  skippedSyscalls: string[];
}

export interface ProcessOptions {
  /** runc's --preserve-fds: the runtime's fds 3 to 3+N-1 stay open in the process, at the same numbers. */
  preserveFds?: number;
}

export function planProcess(spec: Spec, rootfs: string, options: ProcessOptions = {}): ProcessPlan {
  const process = spec.process!;
  // An exec joins a running container: its /proc/PID/root already shows the mounts.
  const executable = resolveExecutable(process, rootfs, rootfs.startsWith('/proc/') ? [] : (spec.mounts ?? []));
  const setup: Step[] = [];
  if (spec.hostname !== undefined) setup.push({ syscall: 'sethostname', args: [spec.hostname, Buffer.byteLength(spec.hostname)], describe: `sethostname(${JSON.stringify(spec.hostname)})` });
  if (spec.domainname !== undefined) setup.push({ syscall: 'setdomainname', args: [spec.domainname, Buffer.byteLength(spec.domainname)], describe: `setdomainname(${JSON.stringify(spec.domainname)})` });
  setup.push({ syscall: 'chdir', args: [process.cwd], describe: `chdir(${JSON.stringify(process.cwd)}) (process.cwd)` });
  setup.push(...rlimitSteps(process));
  setup.push({ syscall: 'faccessat', args: [abi.AT_FDCWD, executable, abi.X_OK, 0], describe: `exec ${JSON.stringify(executable)}` });

  // With a terminal, setsid already ran when the pty became the controlling terminal.
  const exec: Step[] = process.terminal ? [] : [{ syscall: 'setsid', args: [], describe: 'setsid()' }];
  exec.push({ syscall: 'umask', args: [process.user.umask ?? 0o022], describe: 'umask' });
  exec.push(...capabilitySteps(process));
  const { uid, gid } = process.user;
  exec.push({ syscall: 'prctl', args: [abi.PR_SET_KEEPCAPS, 1, 0, 0, 0], describe: 'keep capabilities across the user switch' });
  const groups = process.user.additionalGids ?? [];
  const gidList = Buffer.alloc(4 * Math.max(groups.length, 1));
  groups.forEach((g, i) => gidList.writeUInt32LE(g, 4 * i));
  exec.push({ syscall: 'setgroups', args: [groups.length, gidList], describe: `setgroups(${groups.join(',')}) (process.user.additionalGids)` });
  exec.push({ syscall: 'setresgid', args: [gid, gid, gid], describe: `setresgid(${gid}) (process.user.gid)` });
  exec.push({ syscall: 'setresuid', args: [uid, uid, uid], describe: `setresuid(${uid}) (process.user.uid)` });
  exec.push({ syscall: 'prctl', args: [abi.PR_SET_KEEPCAPS, 0, 0, 0, 0], describe: 'stop keeping capabilities' });
  exec.push(capsetStep(process));
  for (const name of process.capabilities?.ambient ?? []) {
    const bit = abi.CAPABILITIES.indexOf(name as abi.CapabilityName);
    exec.push({ syscall: 'prctl', args: [abi.PR_CAP_AMBIENT, abi.PR_CAP_AMBIENT_RAISE, bit, 0, 0], describe: `raise ambient ${name}` });
  }
  let skippedSyscalls: string[] = [];
  const seccomp = spec.linux?.seccomp;
  let filterStep: Step | undefined;
  if (seccomp) {
    const compiled = compileSeccomp(seccomp);
    skippedSyscalls = compiled.skippedSyscalls;
    const fprog = new Uint8Array(16);
    new DataView(fprog.buffer).setUint16(0, compiled.filter.byteLength / 8, true);
    filterStep = { syscall: 'seccomp', args: [1, compiled.flags, { bytes: fprog, pointers: [[8, compiled.filter]] }], describe: 'install the seccomp filter (linux.seccomp)' };
  }
  if (process.noNewPrivileges) {
    exec.push({ syscall: 'prctl', args: [abi.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0], describe: 'no_new_privs (process.noNewPrivileges)' });
    if (filterStep) exec.push(filterStep);
  } else if (filterStep) {
    // Without no_new_privs the kernel only takes a filter from a process with CAP_SYS_ADMIN: install it
    // before the user switch drops that.
    exec.splice(exec.findIndex((s) => s.syscall === 'setgroups'), 0, filterStep);
  }
  // No host fd may survive into the container (CVE-2024-21626): everything above stdio and the fds the
  // caller asked to preserve closes on exec, and those must stay open (Node marks fds 0-2 close-on-exec).
  const keep = 3 + (options.preserveFds ?? 0);
  exec.push({ syscall: 'close_range', args: [keep, 0xffffffff, abi.CLOSE_RANGE_CLOEXEC], describe: 'close inherited fds on exec' });
  for (const fd of [0, 1, 2]) exec.push({ syscall: 'fcntl', args: [fd, abi.F_SETFD, 0], describe: `keep fd ${fd} open across exec`, ignoreFailure: true });
  for (let fd = 3; fd < keep; fd++) exec.push({ syscall: 'fcntl', args: [fd, abi.F_SETFD, 0], describe: `keep fd ${fd} open across exec (--preserve-fds)` });
  exec.push({ syscall: 'execve', args: [executable, process.args!, process.env ?? []], describe: `execve(${JSON.stringify(executable)})` });
  return { setup, exec, skippedSyscalls };
}
