// SyscallError: what a failed syscall throws. The message names the call, its arguments or path and the
// errno, the way crun does: `mount("overlay" on "/run/x/rootfs"): EINVAL (Invalid argument)`.
import { constants } from 'node:os';
import { IsolaError } from '@isola/errors';
import { lastErrno, libc } from './libc.js';

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  // EAGAIN/EWOULDBLOCK and EDEADLK/EDEADLOCK share numbers: keep the first, conventional name.
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

export class SyscallError extends IsolaError {
  readonly syscall: string;
  readonly errno: number;

  constructor(syscall: string, args: string, errno: number) {
    const name = errnoName(errno);
    super(name, `${syscall}(${args}): ${name} (${libc.strerror(errno)})`, { details: { syscall, args, errno } });
    this.name = 'SyscallError';
    this.syscall = syscall;
    this.errno = errno;
  }
}

/** Throws SyscallError when a libc call returned -1; otherwise returns its result. */
export function check<T extends number | bigint>(result: T, syscall: string, args: () => string): T {
  if (result === -1 || result === -1n) throw new SyscallError(syscall, args(), lastErrno());
  return result;
}

/** How arguments appear in messages: strings quoted, the rest as they print. */
export function q(value: string): string {
  return JSON.stringify(value);
}
