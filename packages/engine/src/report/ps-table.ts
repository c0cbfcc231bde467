// `isola ps` as docker prints it: the columns, `Up 3 seconds`, `Exited (0) 5 seconds ago`, and the
// one-object-per-line JSON of `--format json`.
import type { Observed } from '../containers/observe.js';
import type { ContainerConfig } from '../containers/store.js';

/** docker's units.HumanDuration: `Less than a second`, `3 seconds`, `About a minute`, `2 hours`... */
export function humanDuration(ms: number): string {
  const seconds = Math.max(0, ms / 1000);
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (seconds < 1) return 'Less than a second';
  if (seconds < 60) return plural(Math.floor(seconds), 'second');
  const minutes = seconds / 60;
  if (minutes < 60) return minutes < 2 ? 'About a minute' : plural(Math.floor(minutes), 'minute');
  const hours = minutes / 60;
  if (hours < 48) return hours < 2 ? 'About an hour' : plural(Math.floor(hours), 'hour');
  const days = hours / 24;
  if (days < 14) return plural(Math.floor(days), 'day');
  if (days < 60) return plural(Math.floor(days / 7), 'week');
  if (days < 730) return plural(Math.floor(days / 30), 'month');
  return plural(Math.floor(days / 365), 'year');
}

export function statusText(observed: Observed, now = Date.now()): string {
  const { state } = observed;
  if (observed.status === 'running') return `Up ${humanDuration(now - Date.parse(state.startedAt ?? new Date(now).toISOString()))}`;
  if (observed.status === 'created') return 'Created';
  const ago = state.finishedAt ? ` ${humanDuration(now - Date.parse(state.finishedAt))} ago` : '';
  return `Exited (${state.exitCode ?? 255})${ago}`;
}

/** `"sh -c 'echo hi'"`, cut to 20 characters with an ellipsis, as docker's COMMAND column. */
export function commandText(config: ContainerConfig, truncate = true): string {
  const command = [config.path, ...config.args].join(' ');
  return JSON.stringify(truncate && command.length > 20 ? `${command.slice(0, 19)}…` : command);
}

export interface PsRow {
  Command: string;
  CreatedAt: string;
  ID: string;
  Image: string;
  Labels: string;
  LocalVolumes: string;
  Mounts: string;
  Names: string;
  Networks: string;
  Ports: string;
  RunningFor: string;
  Size: string;
  State: string;
  Status: string;
}

/** docker's CreatedAt: `2024-05-01 10:00:00 +0000 UTC`. */
function createdAt(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`;
}

export function psRow(config: ContainerConfig, observed: Observed, now = Date.now()): PsRow {
  return {
    Command: commandText(config), CreatedAt: createdAt(config.created), ID: config.id.slice(0, 12), Image: config.image,
    Labels: '', LocalVolumes: '0', Mounts: '', Names: config.name, Networks: '', Ports: '',
    RunningFor: `${humanDuration(now - Date.parse(config.created))} ago`, Size: '0B', State: observed.status, Status: statusText(observed, now),
  };
}

/** Columns padded as docker's tabwriter (width 10 at least, 3 spaces between). */
export function psTable(rows: readonly PsRow[]): string {
  const header = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'];
  const cells = [header, ...rows.map((r) => [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names])];
  const widths = header.map((_, i) => Math.max(10, ...cells.map((c) => [...c[i]!].length + 3)));
  return cells.map((c) => c.map((cell, i) => (i === c.length - 1 ? cell : cell.padEnd(widths[i]! - ([...cell].length - cell.length)))).join('').trimEnd()).join('\n');
}
