// `run`: create and start in one go; in the foreground, wait for the exit and delete the container.
import { SpawnError, isAlive } from '@isola/sys';
import { type CreateOptions, createContainer } from './create.js';
import { deleteContainer } from './delete.js';
import { startContainer } from './start.js';
import { waitForExit } from './wait.js';

export interface RunOptions extends CreateOptions {
  detach?: boolean;
  /** Keep the stopped container instead of deleting it (runc run --keep). */
  keep?: boolean;
}

/** Returns the container's exit status (0 when detached). */
export async function runContainer(options: RunOptions): Promise<number> {
  const { record, child } = await createContainer(options);
  try {
    await startContainer(options.id, options);
  } catch (error) {
    // If the process died before start, what it reported is the real reason.
    let reason: unknown = error;
    // A process that failed a step may still be on its way out when start gives up: let it finish.
    for (let i = 0; i < 100 && isAlive(record.pid, record.startTime); i++) await new Promise((r) => setTimeout(r, 10));
    if (!isAlive(record.pid, record.startTime)) {
      try {
        child.awaitSteps();
      } catch (report) {
        reason = report;
      }
    }
    await deleteContainer(options.id, { root: options.root, force: true });
    throw reason;
  }
  if (options.detach) {
    child.release();
    return 0;
  }
  let code: number | null;
  try {
    // The child reports a failed exec on its error pipe (and exits 127); success closes the pipe.
    child.awaitSteps();
    code = await waitForExit(record.pid, record.startTime);
  } catch (error) {
    if (!(error instanceof SpawnError)) throw error;
    await deleteContainer(options.id, { root: options.root, force: true });
    throw error;
  }
  if (!options.keep) await deleteContainer(options.id, { root: options.root, force: true, warn: options.warn });
  return code ?? 0;
}
