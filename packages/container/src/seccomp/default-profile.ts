// Docker's default seccomp profile (moby/moby profiles/seccomp/default.json, Apache-2.0), resolved for
// an x86_64 host and a capability set the way Docker resolves it when it writes a container's
// config.json: a rule's `includes` must all hold and none of its `excludes` may. The allow-list model
// (default ERRNO(EPERM)) blocks what namespaces do not isolate: new namespaces and mounts without
// CAP_SYS_ADMIN, the keyring, kernel modules, clock setting, personality switches and the like.
import type { LinuxSeccomp } from '../spec/types.js';

type Syscall = NonNullable<LinuxSeccomp['syscalls']>[number];

interface DockerRule extends Syscall {
  /** The rule applies only with all these capabilities, or on one of these architectures (Go's GOARCH). */
  includes?: { caps?: string[]; arches?: string[] };
  /** The rule is dropped with any of these capabilities, or on these architectures. */
  excludes?: { caps?: string[]; arches?: string[] };
}

/** What the host is to Docker's `arches` lists: amd64 only (x32 and x86 appear as sub-architectures). */
const HOST_ARCH = 'amd64';

// Docker marks ptrace and process_vm_* as needing kernel 4.8 (where ptrace stopped bypassing seccomp);
// every kernel isola supports is newer, so that condition is left out.
const ALWAYS_ALLOWED = `
accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32 clock_adjtime clock_adjtime64
clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep clock_nanosleep_time64 close
close_range connect copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait
epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64
fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr
flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64
futex futex_time64 futex_waitv futimesat getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid
getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid
getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid getsockname getsockopt get_thread_area
gettid gettimeofday getuid getuid32 getxattr inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel
ioctl io_destroy io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit
io_uring_enter io_uring_register io_uring_setup ipc kill landlock_add_rule landlock_create_ruleset
landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listxattr llistxattr _llseek lremovexattr lseek
lsetxattr lstat lstat64 madvise membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2
mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend
mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at
nanosleep newfstatat _newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free
pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64
pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg
remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending
rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo
sched_getaffinity sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min sched_getscheduler
sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam sched_setscheduler
sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg
sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid setpriority
setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid
setsockopt set_thread_area set_tid_address setuid setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack
signalfd signalfd4 sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs statfs64 statx symlink
symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime
timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime
timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat utime utimensat
utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev
process_vm_readv process_vm_writev ptrace`;

const allow = (names: string, extra: Omit<DockerRule, 'names' | 'action'> = {}): DockerRule => ({
  names: names.split(' '),
  action: 'SCMP_ACT_ALLOW',
  ...extra,
});

const CLONE_NAMESPACE_FLAGS = 0x7e020000; // CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET

const RULES: readonly DockerRule[] = [
  { names: ALWAYS_ALLOWED.trim().split(/\s+/), action: 'SCMP_ACT_ALLOW' },
  // socket() except AF_VSOCK (40), which reaches the host across any network namespace.
  allow('socket', { args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] }),
  // personality(): only the Linux personalities (PER_LINUX, PER_LINUX32, UNAME26 variants) and the query.
  ...[0, 8, 0x20000, 0x20008, 0xffffffff].map((value) => allow('personality', { args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }] })),
  allow('sync_file_range2 swapcontext', { includes: { arches: ['ppc64le'] } }),
  allow('arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls', { includes: { arches: ['arm', 'arm64'] } }),
  allow('arch_prctl', { includes: { arches: ['amd64', 'x32'] } }),
  allow('modify_ldt', { includes: { arches: ['amd64', 'x32', 'x86'] } }),
  allow('s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr', { includes: { arches: ['s390', 's390x'] } }),
  allow('riscv_flush_icache', { includes: { arches: ['riscv64'] } }),
  allow('open_by_handle_at', { includes: { caps: ['CAP_DAC_READ_SEARCH'] } }),
  allow(
    'bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount mount_setattr move_mount open_tree ' +
      'perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog umount umount2 unshare',
    { includes: { caps: ['CAP_SYS_ADMIN'] } },
  ),
  // Without CAP_SYS_ADMIN, clone() may not ask for new namespaces (s390 passes the flags second).
  allow('clone', {
    args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, op: 'SCMP_CMP_MASKED_EQ' }],
    excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] },
  }),
  allow('clone', {
    args: [{ index: 1, value: CLONE_NAMESPACE_FLAGS, op: 'SCMP_CMP_MASKED_EQ' }],
    includes: { arches: ['s390', 's390x'] },
    excludes: { caps: ['CAP_SYS_ADMIN'] },
  }),
  // clone3's flags sit in memory seccomp cannot read: ENOSYS makes libcs fall back to clone().
  { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { caps: ['CAP_SYS_ADMIN'] } },
  allow('reboot', { includes: { caps: ['CAP_SYS_BOOT'] } }),
  allow('chroot', { includes: { caps: ['CAP_SYS_CHROOT'] } }),
  allow('delete_module init_module finit_module', { includes: { caps: ['CAP_SYS_MODULE'] } }),
  allow('acct', { includes: { caps: ['CAP_SYS_PACCT'] } }),
  allow('kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace', { includes: { caps: ['CAP_SYS_PTRACE'] } }),
  allow('iopl ioperm', { includes: { caps: ['CAP_SYS_RAWIO'] } }),
  allow('settimeofday stime clock_settime clock_settime64', { includes: { caps: ['CAP_SYS_TIME'] } }),
  allow('vhangup', { includes: { caps: ['CAP_SYS_TTY_CONFIG'] } }),
  allow('get_mempolicy mbind set_mempolicy set_mempolicy_home_node', { includes: { caps: ['CAP_SYS_NICE'] } }),
  allow('syslog', { includes: { caps: ['CAP_SYSLOG'] } }),
  allow('bpf', { includes: { caps: ['CAP_BPF'] } }),
  allow('perf_event_open', { includes: { caps: ['CAP_PERFMON'] } }),
];

/** `SYS_ADMIN`, `cap_sys_admin` and `CAP_SYS_ADMIN` all name the same capability. */
const capabilityName = (name: string): string => {
  const upper = name.toUpperCase();
  return upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
};

function applies(rule: DockerRule, caps: ReadonlySet<string>): boolean {
  const { includes = {}, excludes = {} } = rule;
  if (includes.arches && !includes.arches.includes(HOST_ARCH)) return false;
  if (includes.caps && !includes.caps.every((cap) => caps.has(cap))) return false;
  if (excludes.arches?.includes(HOST_ARCH)) return false;
  return !excludes.caps?.some((cap) => caps.has(cap));
}

/**
 * Docker's default profile for a container holding `capabilities` (its bounding set), as the OCI
 * `linux.seccomp` Docker would write for it on x86_64.
 */
export function defaultProfile(capabilities: readonly string[]): LinuxSeccomp {
  const caps = new Set(capabilities.map(capabilityName));
  const syscalls = RULES.filter((rule) => applies(rule, caps)).map(({ names, action, errnoRet, args }): Syscall => ({
    names: [...names],
    action,
    ...(errnoRet === undefined ? {} : { errnoRet }),
    ...(args === undefined ? {} : { args: args.map((arg) => ({ ...arg })) }),
  }));
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls,
  };
}
