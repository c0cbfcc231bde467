// What a process started from here inherits as stdio: this process's own fds 0-2, or /dev/null in their
// place while it is made (docker: no stdin without -i; nothing at all with -d). The fds are swapped only
// around the call that clones the process, and put back however it ends.
import { abi, close, fcntl, open } from '@isola/sys';

/** fcntl's F_DUPFD_CLOEXEC: not among @isola/sys's constants. */
const F_DUPFD_CLOEXEC = 1030;

export interface StdioChoice {
  /** Keep fd 0 (-i); otherwise /dev/null. */
  stdin: boolean;
  /** Keep fds 1 and 2; otherwise /dev/null (-d). */
  output: boolean;
}

/** Puts `fd` at `target` (Node has no dup2: close, then F_DUPFD takes the lowest free number ≥ target). */
export function placeAt(fd: number, target: number): void {
  close(target);
  const got = fcntl(fd, 0 /* F_DUPFD */, target);
  if (got !== target) {
    close(got);
    throw new Error(`fd ${fd} landed on ${got}, not ${target}`);
  }
}

export async function withStdio<T>(choice: StdioChoice, fn: () => Promise<T>): Promise<T> {
  const replaced = [...(choice.stdin ? [] : [0]), ...(choice.output ? [] : [1, 2])];
  if (replaced.length === 0) return fn();
  const saved = new Map<number, number>();
  const devNull = open('/dev/null', abi.O_RDWR | abi.O_CLOEXEC);
  try {
    for (const fd of replaced) {
      saved.set(fd, fcntl(fd, F_DUPFD_CLOEXEC, 3));
      placeAt(devNull, fd);
    }
    return await fn();
  } finally {
    for (const [fd, copy] of saved) {
      placeAt(copy, fd);
      close(copy);
    }
    close(devNull);
  }
}
