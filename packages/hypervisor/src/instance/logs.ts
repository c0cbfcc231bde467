// `isola vm logs [-f]`: the guest's serial output from console.log; with follow, new output as it
// comes, until the VM has stopped and everything it wrote has been shown.
import { closeSync, openSync, readSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { observeVm } from './observe.js';
import { VmStore } from './store.js';

export interface VmLogsOptions {
  follow?: boolean;
  root?: string;
  write(bytes: Uint8Array): void;
  /** How often follow looks for more. */
  pollMs?: number;
}

export async function vmLogs(ref: string, options: VmLogsOptions): Promise<void> {
  const store = new VmStore(options.root);
  const id = store.resolve(ref);
  let fd: number;
  try {
    fd = openSync(store.path(id, 'console.log'), 'r');
  } catch {
    return; // no output yet
  }
  const buffer = new Uint8Array(1 << 16);
  let offset = 0;
  const drain = () => {
    for (let n = readSync(fd, buffer, 0, buffer.length, offset); n > 0; n = readSync(fd, buffer, 0, buffer.length, offset)) {
      options.write(buffer.slice(0, n));
      offset += n;
    }
  };
  try {
    drain();
    while (options.follow) {
      // Stopped is read before the last drain: whatever the monitor wrote before it stopped is shown.
      const stopped = observeVm(store, id).status === 'stopped';
      drain();
      if (stopped) break;
      await sleep(options.pollMs ?? 100);
    }
  } finally {
    closeSync(fd);
  }
}
