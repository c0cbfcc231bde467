// `isola ps`: every container with what it is doing now, newest first.
import { type PsRow, psRow } from '../report/ps-table.js';
import { ContainerStore } from './store.js';
import { observe } from './observe.js';
import { defaultStoreRoot } from '@isola/image';
import { psNetworkColumns } from '../networks/settings.js';

export async function listContainers(options: { all?: boolean; root?: string } = {}): Promise<PsRow[]> {
  const containers = new ContainerStore(options.root ?? defaultStoreRoot());
  const rows: Array<{ created: string; row: PsRow }> = [];
  const now = Date.now();
  for (const id of containers.ids()) {
    try {
      const config = containers.config(id);
      const observed = await observe(containers, id, { settleMs: 500 });
      if (!options.all && observed.status !== 'running') continue;
      rows.push({ created: config.created, row: { ...psRow(config, observed, now), ...psNetworkColumns(containers.root, config) } });
    } catch {
      // removed while listing
    }
  }
  return rows.sort((a, b) => b.created.localeCompare(a.created)).map((r) => r.row);
}
