// `isola vm ls`: every VM in the store, with what it is doing now (observe.ts), newest first.
import { observeVm, type VmStatus } from './observe.js';
import { VmStore } from './store.js';

export interface VmSummary {
  id: string;
  name: string;
  state: VmStatus;
  cpus: number;
  /** Guest memory in MiB. */
  mem: number;
  kernel: string;
  created: string;
  /** How it ended, once stopped. */
  end?: string;
}

export function listVms(options: { root?: string } = {}): VmSummary[] {
  const store = new VmStore(options.root);
  const rows: VmSummary[] = [];
  for (const id of store.ids()) {
    try {
      const { config, status, record } = observeVm(store, id);
      rows.push({ id, name: config.name, state: status, cpus: config.cpus, mem: config.memoryMiB, kernel: config.kernel ?? config.flat ?? '', created: config.created, end: record?.end });
    } catch {
      // removed while we looked
    }
  }
  return rows.sort((a, b) => b.created.localeCompare(a.created));
}

function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} seconds ago`;
  if (s < 3600) return `${Math.round(s / 60)} minutes ago`;
  if (s < 86400) return `${Math.round(s / 3600)} hours ago`;
  return `${Math.round(s / 86400)} days ago`;
}

/** The table `isola vm ls` prints, columns padded as docker ps pads them. */
export function vmTable(rows: readonly VmSummary[], now = Date.now()): string {
  const lines = [['VM ID', 'NAME', 'STATE', 'CPUS', 'MEM', 'KERNEL', 'CREATED']];
  for (const r of rows) lines.push([r.id.slice(0, 12), r.name, r.state === 'stopped' && r.end ? `stopped (${r.end})` : r.state, String(r.cpus), `${r.mem}MiB`, r.kernel, ago(r.created, now)]);
  const widths = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  return lines.map((l) => l.map((cell, c) => (c === l.length - 1 ? cell : cell.padEnd(widths[c]! + 3))).join('')).join('\n');
}
