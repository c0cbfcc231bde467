// Waiting for a container's init to exit: when it is our child (library use, `run`), woken by its exit
// (whenExited) and reaped with waitid; else polling /proc (the exit status then belongs to its parent).
import { setTimeout as sleep } from 'node:timers/promises';
import { abi, isAlive, waitid, whenExited, type ChildState } from '@isola/sys';

/** Exit status as a shell reports it: the code, or 128 + the signal. */
export function exitCode(state: ChildState): number {
  return state.kind === 'exited' ? state.status : 128 + state.signal;
}

export async function waitForExit(pid: number, startTime: number): Promise<number | null> {
  try {
    if (await whenExited(pid)) {
      const state = waitid({ pid }, abi.WEXITED | abi.WNOHANG);
      if (state) return exitCode(state);
    }
  } catch {
    // not our child, or reaped meanwhile: the loop below tells
  }
  let delay = 0.2;
  for (;;) {
    try {
      const state = waitid({ pid }, abi.WEXITED | abi.WNOHANG);
      if (state) return exitCode(state);
    } catch {
      if (startTime === 0 || !isAlive(pid, startTime)) return null;
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 20);
  }
}
