// Where a monitor's RSS goes, sampled from /proc while it runs: anonymous memory (heaps, V8 isolates,
// guest RAM the guest touched) against file-backed pages (the executable's and libraries' code and
// data: for Node ~35 MiB of /usr/bin/node, shared with every other node process but counted in each
// one's RSS). /usr/bin/time's %M gives the exact peak; this gives the split at the largest sample.
import { readFileSync } from 'node:fs';

/** VmRSS, RssAnon and RssFile of a process in KiB, or undefined once it has gone. */
export function memoryOf(pid) {
  let status;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKiB: kib('VmRSS'), anonKiB: kib('RssAnon'), fileKiB: kib('RssFile') };
}

/** The process /usr/bin/time (pid) started, once it has. */
function childOf(pid) {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return children.length ? Number(children[0]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Polls a process (or, with `throughTime`, the one /usr/bin/time runs) every `intervalMs` until stop()
 * is called, and returns the sample with the largest RSS.
 */
export function watchMemory(pid, { throughTime = false, intervalMs = 5 } = {}) {
  let largest;
  let target = throughTime ? undefined : pid;
  const sample = () => {
    target ??= childOf(pid);
    const m = target === undefined ? undefined : memoryOf(target);
    if (m && Number.isFinite(m.rssKiB) && (!largest || m.rssKiB > largest.rssKiB)) largest = m;
  };
  const timer = setInterval(sample, intervalMs);
  sample();
  return {
    stop() {
      clearInterval(timer);
      return largest;
    },
  };
}
