// What a process costs the host, from /proc: parsing is separate from the reads.
import { readFileSync } from 'node:fs';

export interface ProcessMemory {
  /** Resident set now, and its peak (VmHWM), in KiB. */
  rssKiB: number;
  peakRssKiB: number;
  /** Proportional set size: shared pages split among the processes that map them. */
  pssKiB: number;
}

/** A `Name:   123 kB` field of /proc/PID/status or smaps_rollup. */
export function kibField(text: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

export function processMemory(pid: number): ProcessMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return { rssKiB: kibField(status, 'VmRSS'), peakRssKiB: kibField(status, 'VmHWM'), pssKiB: kibField(rollup, 'Pss') };
}

/** `loop N tsc T [ns NS]`: what compare/loop.c and compare/guest.c print after timing spin_timed(N). */
export interface LoopResult {
  iterations: number;
  tscCycles: number;
  ns?: number;
}

export function parseLoopLine(output: string): LoopResult | undefined {
  const match = /^loop (\d+) tsc (\d+)(?: ns (\d+))?$/m.exec(output);
  if (!match) return undefined;
  return { iterations: Number(match[1]), tscCycles: Number(match[2]), ...(match[3] ? { ns: Number(match[3]) } : {}) };
}

/** Lines of busybox `ls -l /proc/self/ns`: `net -> net:[4026531840]` → { net: 4026531840 }. */
export function parseNamespaceLinks(text: string): Record<string, number> {
  const links: Record<string, number> = {};
  for (const match of text.matchAll(/(\w+) -> (\w+):\[(\d+)\]/g)) links[match[1]] = Number(match[3]);
  return links;
}

/** Bits set in a /proc status capability mask (CapEff: 00000000a80425fb). */
export function capabilityCount(hex: string): number {
  let count = 0;
  for (let value = BigInt(`0x${hex}`); value; value >>= 1n) count += Number(value & 1n);
  return count;
}
