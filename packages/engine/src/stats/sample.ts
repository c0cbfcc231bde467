// One reading of a container's resource usage: its cgroup (through the runtime's cgroup manager, v1, v2
// or hybrid alike), the host's CPU time (the denominator of docker's CPU %), and the network counters
// of the init's network namespace.
import { readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { type CgroupStats, createCgroup } from '@isola/container';

export interface Sample {
  /** When it was taken (ms since the epoch). */
  at: number;
  cgroup: CgroupStats;
  /** The host's total CPU time so far, ns (every CPU, every state, from /proc/stat). */
  systemCpuNs: number;
  onlineCpus: number;
  /** Bytes received and sent on the container's interfaces but loopback; undefined when it shares the host's network. */
  net?: { rx: number; tx: number };
  /** MemTotal: docker's limit for a container without one. */
  hostMemory: number;
}

/** USER_HZ is 100 on every Linux ABI Node runs on. */
const NS_PER_TICK = 1e9 / 100;

/** The `cpu ` line of /proc/stat, summed, in ns. */
export function parseSystemCpu(procStat: string): number {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return 0;
  return line.trim().split(/\s+/).slice(1, 9).reduce((sum, n) => sum + Number(n), 0) * NS_PER_TICK;
}

/** /proc/PID/net/dev: bytes received and sent over every interface but `lo`. */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim() === 'lo') continue;
    const fields = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    rx += fields[0] ?? 0;
    tx += fields[8] ?? 0;
  }
  return { rx, tx };
}

function netOf(pid: number): { rx: number; tx: number } | undefined {
  try {
    // --network host: the host's counters are not the container's (docker shows none either).
    if (statSync(`/proc/${pid}/ns/net`).ino === statSync('/proc/self/ns/net').ino) return undefined;
    return parseNetDev(readFileSync(`/proc/${pid}/net/dev`, 'utf8'));
  } catch {
    return undefined;
  }
}

function hostMemory(): number {
  const match = /^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

export async function sampleContainer(id: string, pid: number): Promise<Sample> {
  const cgroup = await createCgroup(`/isola/${id}`).stats();
  return {
    at: Date.now(), cgroup, systemCpuNs: parseSystemCpu(readFileSync('/proc/stat', 'utf8')), onlineCpus: availableParallelism(),
    net: pid > 0 ? netOf(pid) : undefined, hostMemory: hostMemory(),
  };
}
