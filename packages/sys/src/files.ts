// `@isola/sys/files`: the file descriptor calls (open, pread, lseek with SEEK_DATA/SEEK_HOLE...) and the
// ABI constants, without the rest of the package. For packages that need a call or two of them on a
// path users wait for: `isola img convert` asks where a raw file's holes are, and loading all of
// @isola/sys for that (KVM, netlink, spawn) took 65-80 ms against 26-37 ms for this entry.
export * as abi from './abi/constants.js';
export { SyscallError, errnoName } from './errors.js';
export * from './syscalls/files.js';
