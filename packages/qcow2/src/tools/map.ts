// `img map`: where each run of the disk comes from, through the backing chain, with qemu-img map's
// JSON fields (start, length, depth, present, zero, data, offset) and its merging of adjacent runs.
import { imageError } from '../errors.js';
import type { Image } from '../image/image.js';

export interface MapEntry {
  start: number;
  length: number;
  depth: number;
  present: boolean;
  zero: boolean;
  data: boolean;
  offset?: number;
  /** The file holding the data (for the human format). */
  filename: string;
}

const STEP = 1024 * 1024 * 1024;

export async function mapImage(image: Image): Promise<MapEntry[]> {
  const entries: MapEntry[] = [];
  for (let at = 0; at < image.size; at += STEP) await mapRange(image, at, Math.min(STEP, image.size - at), 0, entries);
  return entries;
}

async function mapRange(image: Image, start: number, length: number, depth: number, out: MapEntry[]): Promise<void> {
  for (const e of await image.status(start, length)) {
    if (e.kind === 'unallocated') {
      const backing = image.backing;
      const inBacking = backing === undefined ? 0 : Math.max(0, Math.min(e.length, backing.size - e.start));
      if (inBacking > 0) await mapRange(backing!, e.start, inBacking, depth + 1, out);
      if (inBacking < e.length) {
        push(out, { start: e.start + inBacking, length: e.length - inBacking, depth: backing === undefined ? depth : depth + 1, present: false, zero: true, data: false, filename: image.path });
      }
      continue;
    }
    const entry: MapEntry = { start: e.start, length: e.length, depth, present: true, zero: e.kind === 'zero', data: e.kind === 'data', filename: image.path };
    if (e.offset !== undefined) entry.offset = e.offset;
    push(out, entry);
  }
}

function push(out: MapEntry[], e: MapEntry): void {
  const last = out[out.length - 1];
  if (
    last !== undefined &&
    last.start + last.length === e.start &&
    last.depth === e.depth &&
    last.present === e.present &&
    last.zero === e.zero &&
    last.data === e.data &&
    (last.offset === undefined) === (e.offset === undefined) &&
    (last.offset === undefined || last.offset + last.length === e.offset)
  ) {
    last.length += e.length;
  } else {
    out.push(e);
  }
}

/** qemu-img map --output json: one object per line inside brackets, qemu's spacing. */
export function mapJson(entries: readonly MapEntry[]): string {
  const lines = entries.map((e) => {
    const offset = e.offset === undefined ? '' : `, "offset": ${e.offset}`;
    return `{ "start": ${e.start}, "length": ${e.length}, "depth": ${e.depth}, "present": ${e.present}, "zero": ${e.zero}, "data": ${e.data}${offset}}`;
  });
  return `[${lines.join(',\n')}]\n`;
}

/** qemu-img map's human format: the runs of data stored as-is, and the file they are in. */
export function formatMap(entries: readonly MapEntry[]): string {
  const hex = (n: number): string => (n === 0 ? '0' : `0x${n.toString(16)}`);
  const lines = [`${'Offset'.padEnd(16)}${'Length'.padEnd(16)}${'Mapped to'.padEnd(16)}File`];
  for (const e of entries) {
    if (!e.data) continue;
    if (e.offset === undefined) throw imageError('EIMG_BAD_OPTION', e.filename, 'File contains external, encrypted or compressed clusters.');
    lines.push(`${hex(e.start).padEnd(16)}${hex(e.length).padEnd(16)}${hex(e.offset).padEnd(16)}${e.filename}`);
  }
  return `${lines.join('\n')}\n`;
}
