// What `isola images` prints: docker's table (REPOSITORY TAG IMAGE ID CREATED SIZE, one row per
// tag, `<none>` for untagged images) or a JSON array. Pure functions of the store's summaries.
import { shortId } from '../store/digest.js';
import { familiarRepository, parseReference, repositoryOf } from '../store/reference.js';
import type { ImageSummary } from '../store/store.js';

export interface ImageRow {
  Repository: string;
  Tag: string;
  Id: string;
  Digest: string;
  Created?: string;
  CreatedSince: string;
  Size: number;
  Names: string[];
}

/** 1000-based units, as docker prints sizes (`4.26MB`). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)}${units[unit]}`;
}

/** `3 days ago`, `About an hour ago`, as docker's units.HumanDuration. */
export function timeAgo(iso: string | undefined, now = Date.now()): string {
  if (iso === undefined || Number.isNaN(Date.parse(iso))) return 'N/A';
  const seconds = Math.max(0, (now - Date.parse(iso)) / 1000);
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'} ago`;
  if (seconds < 1) return 'Less than a second ago';
  if (seconds < 60) return plural(Math.floor(seconds), 'second');
  const minutes = seconds / 60;
  if (minutes < 60) return minutes < 2 ? 'About a minute ago' : plural(Math.floor(minutes), 'minute');
  const hours = minutes / 60;
  if (hours < 48) return hours < 2 ? 'About an hour ago' : plural(Math.floor(hours), 'hour');
  const days = hours / 24;
  if (days < 14) return plural(Math.floor(days), 'day');
  if (days < 60) return plural(Math.floor(days / 7), 'week');
  if (days < 730) return plural(Math.floor(days / 30), 'month');
  return plural(Math.floor(days / 365), 'year');
}

export function imageRows(images: ImageSummary[], now = Date.now()): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const image of images) {
    const common = { Id: image.id, Digest: image.digest, Created: image.created, CreatedSince: timeAgo(image.created, now), Size: image.size, Names: image.names };
    if (image.names.length === 0) rows.push({ Repository: '<none>', Tag: '<none>', ...common });
    for (const name of image.names) {
      const ref = parseReference(name);
      rows.push({ Repository: familiarRepository(repositoryOf(ref)), Tag: ref.tag ?? '<none>', ...common });
    }
  }
  return rows;
}

export function formatImagesTable(rows: ImageRow[]): string {
  const table = [['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], ...rows.map((r) => [r.Repository, r.Tag, shortId(r.Id), r.CreatedSince, humanSize(r.Size)])];
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  return table.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c] + 3))).join('').trimEnd()).join('\n');
}
