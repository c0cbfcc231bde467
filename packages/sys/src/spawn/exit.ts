// Waiting for a child to exit without polling and without blocking the event loop: a libuv pool thread
// blocks in waitid(WEXITED | WNOWAIT) and the promise settles the moment the child ends. WNOWAIT leaves
// the child a zombie, so whoever reaps it (waitid) still gets its status. The pool is small (4 threads)
// and fs needs it, so at most one such wait runs at a time; the others are told to poll.
import * as c from '../abi/constants.js';
import { libc } from '../libc.js';
import { waitid } from '../syscalls/process.js';

let waiting = false;

/**
 * Resolves true once child `pid` has exited (not yet reaped); false at once when another wait already
 * holds the pool thread. Throws SyscallError when `pid` is not a child of this process (ECHILD).
 */
export async function whenExited(pid: number): Promise<boolean> {
  if (waiting) return false;
  waiting = true;
  try {
    for (;;) {
      // On this thread, where errno can be read: this is what names ECHILD, or an exit already done.
      if (waitid({ pid }, c.WEXITED | c.WNOHANG | c.WNOWAIT)) return true;
      const info = Buffer.alloc(128);
      const result = await new Promise<number>((resolve, reject) => {
        libc.waitid.async(c.P_PID, pid, info, c.WEXITED | c.WNOWAIT, (error: unknown, value: number) => (error ? reject(error) : resolve(value)));
      });
      if (result === 0) return true;
      // -1: interrupted, or reaped by someone else meanwhile; the check above tells which.
    }
  } finally {
    waiting = false;
  }
}
