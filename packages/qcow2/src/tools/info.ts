// `img info`: what qemu-img info reports, under its JSON field names, and its text layout.
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import type { Snapshot } from '../format/snapshot.js';
import type { Image, ImageFormat } from '../image/image.js';
import { openImage } from '../image/open.js';
import { humanSize } from './options.js';

export interface InfoOptions {
  format?: ImageFormat;
  /** Report every image of the backing chain, top first. */
  backingChain?: boolean;
}

/** One image's `qemu-img info --output json` object. */
export type InfoJson = Record<string, unknown>;

export async function imageInfo(path: string, options: InfoOptions = {}): Promise<InfoJson[]> {
  const image = await openImage(path, { readOnly: true, format: options.format });
  try {
    const chain: InfoJson[] = [];
    for (let layer: Image | undefined = image; layer !== undefined; layer = options.backingChain ? layer.backing : undefined) {
      chain.push(await describe(layer));
    }
    return chain;
  } finally {
    await image.close();
  }
}

async function describe(image: Image): Promise<InfoJson> {
  const info = image.info();
  const actual = await stat(image.path).then((s) => s.blocks * 512);
  const out: InfoJson = {};
  if (info.format === 'raw') {
    return { 'virtual-size': info.virtualSize, filename: image.path, format: 'raw', 'actual-size': actual, 'dirty-flag': false };
  }
  if (info.backingFile !== undefined && info.backingFormat !== undefined) out['backing-filename-format'] = info.backingFormat;
  if (info.snapshots.length > 0) out.snapshots = info.snapshots.map(snapshotJson);
  out['virtual-size'] = info.virtualSize;
  out.filename = image.path;
  out['cluster-size'] = info.clusterSize;
  out.format = 'qcow2';
  out['actual-size'] = actual;
  const data: Record<string, unknown> =
    info.version === 2
      ? { compat: '0.10', 'compression-type': info.compressionType, 'refcount-bits': info.refcountBits }
      : {
          compat: '1.1',
          'compression-type': info.compressionType,
          'lazy-refcounts': info.lazyRefcounts,
          'refcount-bits': info.refcountBits,
          ...(info.dataFile !== undefined ? { 'data-file': info.dataFile, 'data-file-raw': info.dataFileRaw } : {}),
          corrupt: info.corrupt,
          'extended-l2': info.extendedL2,
        };
  out['format-specific'] = { type: 'qcow2', data };
  if (info.backingFile !== undefined) {
    // qemu's path_combine: the name as stored, joined to the directory the image was named with.
    out['full-backing-filename'] = isAbsolute(info.backingFile) ? info.backingFile : join(dirname(image.path), info.backingFile);
    out['backing-filename'] = info.backingFile;
  }
  out['dirty-flag'] = info.dirty;
  return out;
}

export function snapshotJson(s: Snapshot): Record<string, unknown> {
  return {
    icount: s.icount < 0 ? undefined : s.icount,
    'vm-clock-nsec': s.vmClockNsec % 1e9,
    name: s.name,
    'date-sec': s.dateSec,
    'date-nsec': s.dateNsec,
    'vm-clock-sec': Math.floor(s.vmClockNsec / 1e9),
    id: s.id,
    'vm-state-size': s.vmStateSize,
  };
}

/** The text qemu-img info prints for one image. */
export function formatInfo(j: InfoJson): string {
  const lines = [
    `image: ${j.filename}`,
    `file format: ${j.format}`,
    `virtual size: ${humanSize(j['virtual-size'] as number)} (${j['virtual-size']} bytes)`,
    `disk size: ${humanSize(j['actual-size'] as number)}`,
  ];
  if (j['cluster-size'] !== undefined) lines.push(`cluster_size: ${j['cluster-size']}`);
  if (j['backing-filename'] !== undefined) {
    const full = j['full-backing-filename'] !== j['backing-filename'] ? ` (actual path: ${j['full-backing-filename']})` : '';
    // qemu prints the actual path only when it differs from the stored name.
    lines.push(`backing file: ${j['backing-filename']}${full}`);
    if (j['backing-filename-format'] !== undefined) lines.push(`backing file format: ${j['backing-filename-format']}`);
  }
  const snapshots = j.snapshots as Record<string, unknown>[] | undefined;
  if (snapshots !== undefined) lines.push(...formatSnapshotTable(snapshots).split('\n').filter((l) => l !== ''));
  const specific = j['format-specific'] as { data: Record<string, unknown> } | undefined;
  if (specific !== undefined) {
    lines.push('Format specific information:');
    for (const [key, value] of Object.entries(specific.data)) lines.push(`    ${key.replace(/-/g, ' ')}: ${value}`);
  }
  return `${lines.join('\n')}\n`;
}

/** "Snapshot list:" and qemu's columns (ID, TAG, VM SIZE, DATE, VM CLOCK, ICOUNT). */
export function formatSnapshotTable(snapshots: readonly Record<string, unknown>[]): string {
  const lines = ['Snapshot list:', `${'ID'.padEnd(10)}${'TAG'.padEnd(18)}${'VM SIZE'.padStart(7)}${'DATE'.padStart(20)}${'VM CLOCK'.padStart(13)}${'ICOUNT'.padStart(11)}`];
  for (const s of snapshots) {
    const date = new Date((s['date-sec'] as number) * 1000);
    const pad = (n: number): string => String(n).padStart(2, '0');
    const when = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
    const secs = s['vm-clock-sec'] as number;
    const clock = `${pad(Math.floor(secs / 3600))}:${pad(Math.floor(secs / 60) % 60)}:${pad(secs % 60)}.${String(Math.floor((s['vm-clock-nsec'] as number) / 1e6)).padStart(3, '0')}`;
    const icount = s.icount === undefined ? '' : String(s.icount);
    lines.push(`${String(s.id).padEnd(10)}${String(s.name).padEnd(18)}${humanSize(s['vm-state-size'] as number).padStart(7)}${when.padStart(20)}${clock.padStart(13)}${icount.padStart(11)}`);
  }
  return `${lines.join('\n')}\n`;
}
