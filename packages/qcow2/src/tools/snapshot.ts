// `img snapshot`: list, create, apply or delete internal snapshots of a qcow2 image.
import { imageError } from '../errors.js';
import type { Snapshot } from '../format/snapshot.js';
import { openImage } from '../image/open.js';
import { Qcow2Image } from '../image/qcow2-image.js';
import { formatSnapshotTable, snapshotJson } from './info.js';

export type SnapshotAction = { list: true } | { create: string } | { apply: string } | { delete: string };

/** Performs the action; returns the snapshots afterwards. */
export async function snapshot(path: string, action: SnapshotAction): Promise<Snapshot[]> {
  const image = await openImage(path, { readOnly: 'list' in action, format: 'qcow2' });
  try {
    if (!(image instanceof Qcow2Image)) throw imageError('EIMG_BAD_OPTION', path, 'only qcow2 images have internal snapshots');
    if ('create' in action) await image.createSnapshot(action.create);
    else if ('apply' in action) await image.applySnapshot(action.apply);
    else if ('delete' in action) await image.deleteSnapshot(action.delete);
    return [...image.snapshots];
  } finally {
    await image.close();
  }
}

/** qemu-img snapshot -l: the table, or nothing when there are no snapshots. */
export function formatSnapshotList(snapshots: readonly Snapshot[]): string {
  return snapshots.length === 0 ? '' : formatSnapshotTable(snapshots.map(snapshotJson));
}
