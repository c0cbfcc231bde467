// `isola top CONTAINER [ps OPTIONS]`: the host's ps, its rows narrowed to the container's processes
// (those in its cgroup), as docker does it. The PID column is found by its header.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { IsolaError } from '@isola/errors';
import { createCgroup } from '@isola/container';
import { openStores } from '../containers/create.js';
import { observe } from '../containers/observe.js';

export interface TopResult {
  titles: string[];
  /** ps's lines, as it printed them. */
  header: string;
  lines: string[];
}

/** Keeps ps's header and the lines whose PID is among `pids`. */
export function filterPs(output: string, pids: ReadonlySet<number>): TopResult {
  const [header = '', ...rest] = output.split('\n').filter((l) => l.trim() !== '');
  const titles = header.trim().split(/\s+/);
  const column = titles.indexOf('PID');
  if (column < 0) throw new IsolaError('EINVAL', `ps did not print a PID column (its header: "${header.trim()}"): give options that include it`);
  const lines = rest.filter((line) => pids.has(Number(line.trim().split(/\s+/)[column])));
  return { titles, header, lines };
}

export async function topContainer(ref: string, psArgs: readonly string[] = [], options: { root?: string } = {}): Promise<TopResult> {
  const { containers } = await openStores(options.root);
  const id = containers.resolve(ref);
  if ((await observe(containers, id)).status !== 'running') {
    throw new IsolaError('ESTATE', `container ${containers.config(id).name} is not running`);
  }
  const pids = new Set(await createCgroup(`/isola/${id}`).pids());
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('ps', psArgs.length ? [...psArgs] : ['-ef'], { maxBuffer: 64 * 1024 * 1024 }));
  } catch (error) {
    const why = String((error as { stderr?: string }).stderr ?? '').trim().split('\n')[0] || (error as Error).message;
    throw new IsolaError('EINVAL', `ps ${psArgs.join(' ')} failed: ${why}`, { cause: error });
  }
  return filterPs(stdout, pids);
}
