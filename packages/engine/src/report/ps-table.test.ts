import { describe, expect, it } from 'vitest';
import type { Observed } from '../containers/observe.js';
import type { ContainerConfig } from '../containers/store.js';
import { commandText, humanDuration, psRow, psTable, statusText } from './ps-table.js';

const now = Date.parse('2024-05-01T10:00:00Z');
const config = {
  id: 'a'.repeat(64), name: 'web', image: 'busybox', created: '2024-05-01T09:59:50Z', path: 'sh', args: ['-c', 'echo hello world; sleep 100'],
} as ContainerConfig;
const state = { pid: 1, startTime: 1, monitorPid: 2, monitorStartTime: 2, bootId: 'b' };

describe('ps output', () => {
  it('prints durations as docker does', () => {
    expect([500, 1000, 3000, 61_000, 150_000, 3_700_000, 3 * 86_400_000].map(humanDuration)).toEqual([
      'Less than a second', '1 second', '3 seconds', 'About a minute', '2 minutes', 'About an hour', '3 days',
    ]);
  });

  it('shows Up, Exited (code) ago, and Created', () => {
    const running: Observed = { id: config.id, status: 'running', state: { ...state, status: 'running', startedAt: '2024-05-01T09:59:57Z' } };
    const exited: Observed = { id: config.id, status: 'exited', state: { ...state, status: 'exited', exitCode: 143, finishedAt: '2024-05-01T09:59:55Z' } };
    expect(statusText(running, now)).toBe('Up 3 seconds');
    expect(statusText(exited, now)).toBe('Exited (143) 5 seconds ago');
    expect(statusText({ ...running, status: 'created' }, now)).toBe('Created');
  });

  it('quotes and cuts the command, and lays out the table', () => {
    expect(commandText(config)).toBe('"sh -c echo hello wo…"');
    const row = psRow(config, { id: config.id, status: 'running', state: { ...state, status: 'running', startedAt: '2024-05-01T09:59:57Z' } }, now);
    expect(row.RunningFor).toBe('10 seconds ago');
    expect(psTable([row]).split('\n')).toEqual([
      'CONTAINER ID   IMAGE     COMMAND                  CREATED          STATUS         PORTS     NAMES',
      'aaaaaaaaaaaa   busybox   "sh -c echo hello wo…"   10 seconds ago   Up 3 seconds             web',
    ]);
  });
});
