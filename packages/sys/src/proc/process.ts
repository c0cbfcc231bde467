// What /proc says about a process: alive, a zombie, or gone, and whether the pid now names another
// process (the start time tells them apart). Shared by every package that keeps a pid in a state file:
// the runtime's container inits, the engine's monitors, the hypervisor's detached VMs, the image store's
// lock owners.
import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** R, S, D, Z, X, ... (field 3 of /proc/PID/stat) */
  state: string;
  /** Field 22: when the process started, in clock ticks since boot. */
  startTime: number;
}

export function procStat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, startTime: Number(fields[19]) };
  } catch {
    return null;
  }
}

/** The start time of a live process, or undefined when it is gone or a zombie. */
export function procStartTime(pid: number): number | undefined {
  const stat = procStat(pid);
  return stat === null || stat.state === 'Z' || stat.state === 'X' ? undefined : stat.startTime;
}

/** True while the process `pid` that started at `startTime` exists and has not exited. */
export function isAlive(pid: number, startTime: number): boolean {
  return pid > 0 && procStartTime(pid) === startTime;
}

let thisBoot: string | undefined;

/** This boot's id: state recorded under another boot names processes that no longer exist. Read once. */
export function bootId(): string {
  if (thisBoot === undefined) {
    try {
      thisBoot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      thisBoot = 'unknown';
    }
  }
  return thisBoot;
}
