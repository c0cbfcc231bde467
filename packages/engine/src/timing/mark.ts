// Phase timestamps for measuring start-up: with ISOLA_TIMING=1, each phase of a command writes
// `isola-timing: PHASE at T ms` on stderr, T counted from the command's start (performance.now()), as
// the CLI's base command does for the moment a command starts. A process the command starts (the
// container launcher) gets the command's time origin in ISOLA_TIMING_ORIGIN, so that its phases are on
// the same timeline, and its marks are forwarded by the command (containers/start.ts). bench/run reads them.
import { writeSync } from 'node:fs';

const enabled = process.env.ISOLA_TIMING === '1';
const origin = Number(process.env.ISOLA_TIMING_ORIGIN) || performance.timeOrigin;
let fd = 2;

export function mark(phase: string): void {
  if (!enabled) return;
  const at = performance.timeOrigin + performance.now() - origin;
  try {
    writeSync(fd, `isola-timing: ${phase} at ${at.toFixed(1)} ms\n`);
  } catch {
    // a closed stderr: timing is not worth failing for
  }
}

/** Where marks go from now on (the launcher keeps its stderr on another fd once fd 2 is the container's). */
export function markTo(target: number): void {
  fd = target;
}

/** The environment a process started by this one needs for its marks to share this timeline. */
export function timingEnv(): Record<string, string> {
  return enabled ? { ISOLA_TIMING_ORIGIN: String(performance.timeOrigin) } : {};
}
