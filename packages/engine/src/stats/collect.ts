// `isola stats`: rows for the named containers (or every running one), each CPU % measured over one
// interval between two samples, as docker's daemon measures it. `stream` yields a new set every interval.
import { setTimeout as sleep } from 'node:timers/promises';
import { openStores } from '../containers/create.js';
import { observe } from '../containers/observe.js';
import type { ContainerStore } from '../containers/store.js';
import { type StatsRow, statsRow } from './format.js';
import { type Sample, sampleContainer } from './sample.js';

export interface StatsOptions {
  root?: string;
  /** Containers that are not running too (docker stats -a); named ones are always shown. */
  all?: boolean;
  /** Between the two samples of a reading, and between readings. Default 1000 ms. */
  intervalMs?: number;
}

interface Target {
  id: string;
  name: string;
}

async function targets(containers: ContainerStore, refs: readonly string[], all: boolean): Promise<Target[]> {
  if (refs.length) return refs.map((ref) => containers.resolve(ref)).map((id) => ({ id, name: containers.config(id).name }));
  const out: Target[] = [];
  for (const id of containers.ids()) {
    try {
      const config = containers.config(id);
      if (all || (await observe(containers, id, { settleMs: 0 })).status === 'running') out.push({ id, name: config.name });
    } catch {
      // removed while listing
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** A sample of a running container; undefined when it is not running (or stops while read). */
async function sample(containers: ContainerStore, id: string): Promise<Sample | undefined> {
  try {
    const observed = await observe(containers, id, { settleMs: 0 });
    if (observed.status !== 'running') return undefined;
    return await sampleContainer(id, observed.state.pid);
  } catch {
    return undefined;
  }
}

/** Readings, one set per interval; stops after the first when `stream` is false. */
export async function* containerStats(refs: readonly string[], options: StatsOptions & { stream?: boolean } = {}): AsyncGenerator<StatsRow[]> {
  const { containers } = await openStores(options.root);
  const interval = options.intervalMs ?? 1000;
  const previous = new Map<string, Sample | undefined>();
  let list = await targets(containers, refs, options.all ?? false);
  for (const t of list) previous.set(t.id, await sample(containers, t.id));
  for (;;) {
    await sleep(interval);
    const rows: StatsRow[] = [];
    for (const t of list) {
      const now = await sample(containers, t.id);
      rows.push(statsRow(t, previous.get(t.id), now));
      previous.set(t.id, now);
    }
    yield rows;
    if (!options.stream) return;
    if (!refs.length) {
      list = await targets(containers, refs, options.all ?? false);
      for (const t of list) if (!previous.has(t.id)) previous.set(t.id, await sample(containers, t.id));
    }
  }
}

/** One reading (docker stats --no-stream). */
export async function statsOnce(refs: readonly string[], options: StatsOptions = {}): Promise<StatsRow[]> {
  for await (const rows of containerStats(refs, { ...options, stream: false })) return rows;
  return [];
}
