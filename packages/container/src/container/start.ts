// `start`: release a created container's process to exec its program.
import { closeSync, openSync, writeSync } from 'node:fs';
import { IsolaError } from '@isola/errors';
import { kill } from '@isola/sys';
import { StateStore } from '../state/store.js';
import { runHooks } from './hooks.js';
import { stateOf } from './create.js';
import { statusOf } from './status.js';

export async function startContainer(id: string, options: { root?: string; warn?: (m: string) => void } = {}): Promise<void> {
  const store = new StateStore(options.root);
  const record = store.read(id);
  const status = await statusOf(record);
  if (status === 'stopped') throw new IsolaError('ESTATE', `cannot start container "${id}": it has stopped`);
  if (status !== 'created') throw new IsolaError('ESTATE', `cannot start container "${id}": it is ${status}, not created`);
  const container = { pid: record.pid, namespaces: new Set(record.config.linux?.namespaces?.map((n) => n.type)) };
  try {
    await runHooks('startContainer', record.config.hooks, stateOf(record, 'created'), undefined, container);
  } catch (error) {
    // The spec: a failed startContainer hook stops the container; delete is left to the caller.
    kill(record.pid, 9);
    throw error;
  }
  // The waiting child holds the write end of its start pipe; writing to it through /proc lets it go on.
  const fd = openSync(`/proc/${record.pid}/fd/${record.syncFd}`, 'w');
  try {
    writeSync(fd, 's');
  } finally {
    closeSync(fd);
  }
  store.markStarted(id);
  record.started = true;
  await runHooks('poststart', record.config.hooks, stateOf(record, 'running'), options.warn);
}
