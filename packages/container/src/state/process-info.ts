// What /proc says about a container's init: alive, a zombie, or gone (or replaced by another process
// that reused the pid, which start time tells apart).
import { readFileSync } from 'node:fs';

export interface ProcStat {
  state: string;
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

/** True while the process `pid` that started at `startTime` exists and has not exited. */
export function isAlive(pid: number, startTime: number): boolean {
  const stat = procStat(pid);
  return stat !== null && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X';
}
