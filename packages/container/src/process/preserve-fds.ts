// runc's --preserve-fds N: the runtime's own fds 3 to 3+N-1 (handed to it by its caller, e.g. sockets
// for activation) pass into the container's process at the same numbers. They must be open now: a
// count past what the caller gave would otherwise pass whatever Node itself has open there.
import { IsolaError } from '@isola/errors';
import { abi, fcntl } from '@isola/sys';

/** The count, checked; `limit` is the first fd number the runtime needs for itself in the child. */
export function checkPreservedFds(count: number | undefined, limit: number): number {
  if (count === undefined) return 0;
  if (!Number.isInteger(count) || count < 0) throw new IsolaError('EUSAGE', `--preserve-fds ${count}: expected a number of fds, 0 or more`);
  if (3 + count > limit) throw new IsolaError('EUSAGE', `--preserve-fds ${count}: at most ${limit - 3} fds can be preserved`);
  for (let fd = 3; fd < 3 + count; fd++) {
    try {
      fcntl(fd, abi.F_GETFD);
    } catch {
      throw new IsolaError('EBADF', `--preserve-fds ${count}: fd ${fd} is not open in isola-runtime`);
    }
  }
  return count;
}
