// `kill`: signal a container's init (or, with all, every process in its cgroup).
import { IsolaError } from '@isola/errors';
import { close, pidfdOpen, pidfdSendSignal, procStat } from '@isola/sys';
import { createCgroup } from '../cgroups/index.js';
import { StateStore } from '../state/store.js';
import { parseSignal } from './signal.js';
import { statusOf } from './status.js';
import { constants } from 'node:os';

export async function killContainer(id: string, signal?: string | number, options: { root?: string; all?: boolean } = {}): Promise<void> {
  const record = new StateStore(options.root).read(id);
  const number = parseSignal(signal);
  if ((await statusOf(record)) === 'stopped') throw new IsolaError('ESTATE', `cannot kill container "${id}": it is not running`);
  if (options.all) {
    const name = Object.entries(constants.signals).find(([, n]) => n === number)?.[0] as NodeJS.Signals | undefined;
    await createCgroup(record.cgroupPath).kill(name ?? 'SIGKILL');
    return;
  }
  // A pidfd names this very process: if the pid were reused after the check, the signal goes nowhere.
  const pidfd = pidfdOpen(record.pid);
  try {
    if (procStat(record.pid)?.startTime !== record.startTime) throw new IsolaError('ESTATE', `cannot kill container "${id}": it is not running`);
    pidfdSendSignal(pidfd, number);
  } finally {
    close(pidfd);
  }
}
