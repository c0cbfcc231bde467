// The one file that uses koffi (loaded by koffi.ts): raw libc entry points with their C prototypes. Nothing here checks
// results; the typed wrappers in syscalls/ and kvm/ do that, and throw SyscallError.
//
// ioctl, fcntl, open and syscall are variadic in C. On x86-64 a variadic callee receives integer and
// pointer arguments exactly as a fixed-argument one does, so each is declared here with the fixed
// prototypes isola uses: koffi then avoids parsing argument types on every call (KVM_RUN is hot).
import { koffi } from './koffi.js';

const lib = koffi.load('libc.so.6');

export const libc = {
  open: lib.func('open', 'int', ['str', 'int', 'uint32']),
  openat: lib.func('openat', 'int', ['int', 'str', 'int', 'uint32']),
  close: lib.func('close', 'int', ['int']),
  read: lib.func('read', 'long', ['int', 'void *', 'size_t']),
  write: lib.func('write', 'long', ['int', 'void *', 'size_t']),
  pread: lib.func('pread64', 'long', ['int', 'void *', 'size_t', 'int64']),
  pwrite: lib.func('pwrite64', 'long', ['int', 'void *', 'size_t', 'int64']),
  lseek: lib.func('lseek64', 'int64', ['int', 'int64', 'int']),
  fsync: lib.func('fsync', 'int', ['int']),
  fdatasync: lib.func('fdatasync', 'int', ['int']),
  fallocate: lib.func('fallocate64', 'int', ['int', 'int', 'int64', 'int64']),
  fcntl: lib.func('fcntl', 'int', ['int', 'int', 'long']),
  ioctlPtr: lib.func('ioctl', 'int', ['int', 'ulong', 'void *']),
  ioctlInt: lib.func('ioctl', 'int', ['int', 'ulong', 'ulong']),
  ioctlAddr: lib.func('ioctl', 'int', ['int', 'ulong', 'uint64']),
  mmap: lib.func('mmap', 'void *', ['void *', 'size_t', 'int', 'int', 'int', 'int64']),
  munmap: lib.func('munmap', 'int', ['void *', 'size_t']),
  mprotect: lib.func('mprotect', 'int', ['void *', 'size_t', 'int']),
  madvise: lib.func('madvise', 'int', ['void *', 'size_t', 'int']),
  eventfd: lib.func('eventfd', 'int', ['uint', 'int']),
  pipe2: lib.func('pipe2', 'int', ['void *', 'int']),
  memfd_create: lib.func('memfd_create', 'int', ['str', 'uint']),
  close_range: lib.func('close_range', 'int', ['uint', 'uint', 'int']),
  unshare: lib.func('unshare', 'int', ['int']),
  setns: lib.func('setns', 'int', ['int', 'int']),
  mount: lib.func('mount', 'int', ['str', 'str', 'str', 'ulong', 'str']),
  umount2: lib.func('umount2', 'int', ['str', 'int']),
  syscall2s: lib.func('syscall', 'long', ['long', 'str', 'str']),
  sethostname: lib.func('sethostname', 'int', ['str', 'size_t']),
  setdomainname: lib.func('setdomainname', 'int', ['str', 'size_t']),
  prctl: lib.func('prctl', 'int', ['int', 'ulong', 'ulong', 'ulong', 'ulong']),
  capget: lib.func('capget', 'int', ['void *', 'void *']),
  capset: lib.func('capset', 'int', ['void *', 'void *']),
  prlimit: lib.func('prlimit64', 'int', ['int', 'int', 'void *', 'void *']),
  kill: lib.func('kill', 'int', ['int', 'int']),
  tgkill: lib.func('tgkill', 'int', ['int', 'int', 'int']),
  gettid: lib.func('gettid', 'int', []),
  pidfd_open: lib.func('pidfd_open', 'int', ['int', 'uint']),
  pidfd_send_signal: lib.func('pidfd_send_signal', 'int', ['int', 'int', 'void *', 'uint']),
  pidfd_getfd: lib.func('pidfd_getfd', 'int', ['int', 'int', 'uint']),
  waitid: lib.func('waitid', 'int', ['int', 'uint', 'void *', 'int']),
  execve: lib.func('execve', 'int', ['str', 'const char **', 'const char **']),
  strerror: lib.func('strerror', 'str', ['int']),
  // glibc's clone(fn, stack, flags, arg): the child starts at fn (isola's machine code) on `stack`.
  clone: lib.func('clone', 'int', ['void *', 'void *', 'int', 'void *']),
  // The pure-TS spawn path (spawn/fallback): any syscall by number, and posix_spawn for its Node child.
  syscall6: lib.func('syscall', 'long', ['long', 'uint64', 'uint64', 'uint64', 'uint64', 'uint64', 'uint64']),
  posix_spawn: lib.func('posix_spawn', 'int', ['void *', 'str', 'void *', 'void *', 'const char **', 'const char **']),
  mkfifo: lib.func('mkfifo', 'int', ['str', 'uint32']),
  mknod: lib.func('mknod', 'int', ['str', 'uint32', 'uint64']),
  lsetxattr: lib.func('lsetxattr', 'int', ['str', 'str', 'void *', 'size_t', 'int']),
  lgetxattr: lib.func('lgetxattr', 'long', ['str', 'str', 'void *', 'size_t']),
  socket: lib.func('socket', 'int', ['int', 'int', 'int']),
  connect: lib.func('connect', 'int', ['int', 'void *', 'uint32']),
  bind: lib.func('bind', 'int', ['int', 'void *', 'uint32']),
  listen: lib.func('listen', 'int', ['int', 'int']),
  accept4: lib.func('accept4', 'int', ['int', 'void *', 'void *', 'int']),
  sendmsg: lib.func('sendmsg', 'long', ['int', 'void *', 'int']),
  recvmsg: lib.func('recvmsg', 'long', ['int', 'void *', 'int']),
  setsockopt: lib.func('setsockopt', 'int', ['int', 'int', 'int', 'void *', 'uint32']),
  flock: lib.func('flock', 'int', ['int', 'int']),
  pthread_sigmask: lib.func('pthread_sigmask', 'int', ['int', 'void *', 'void *']),
};

/** errno as the last call through koffi left it. */
export const lastErrno = (): number => koffi.errno();

/** An ArrayBuffer over `length` bytes of native memory at `address` (e.g. an mmap result). */
export const viewMemory = (address: bigint, length: number): ArrayBuffer => koffi.view(address, length);
