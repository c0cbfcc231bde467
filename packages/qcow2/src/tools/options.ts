// The small languages qemu-img's command lines use, parsed the way qemu-img parses them, so the
// `isola img` commands accept the same arguments: sizes with binary suffixes ("10G", "1.5M", "+512K")
// and "-o key=value,key=value" option strings; and qemu's way of printing sizes ("532 KiB").
import { imageError } from '../errors.js';

const SUFFIXES: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50, e: 2 ** 60 };

/** "1G" → 1073741824; a bare number is bytes; fractions allowed before a suffix ("1.5M"). */
export function parseSize(text: string, what = 'size'): number {
  const match = /^(\d+(?:\.\d+)?)([bkmgtpe]?)$/i.exec(text.trim());
  if (match === null) throw imageError('EIMG_BAD_OPTION', what, `invalid size "${text}" (a number with an optional k, M, G, T, P or E suffix)`);
  const value = Number(match[1]) * SUFFIXES[match[2].toLowerCase()];
  if (!Number.isSafeInteger(Math.round(value))) throw imageError('EIMG_BAD_OPTION', what, `size "${text}" is too large`);
  return Math.round(value);
}

/** "cluster_size=64k,compat=1.1" → Map; a key without "=" means "on" (qemu's shorthand). Commas double to escape. */
export function parseOptionString(text: string): Map<string, string> {
  const options = new Map<string, string>();
  const parts = text.replace(/,,/g, '\u0000').split(',').map((p) => p.replace(/\u0000/g, ','));
  for (const part of parts) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) options.set(part, 'on');
    else options.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return options;
}

export function parseBool(value: string, key: string): boolean {
  if (['on', 'yes', 'true'].includes(value)) return true;
  if (['off', 'no', 'false'].includes(value)) return false;
  throw imageError('EIMG_BAD_OPTION', key, `"${value}" is not on or off`);
}

/** qemu's size_to_str: three significant digits of the largest binary unit below 1000 of it. */
export function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  const scaled = bytes / (1000 / 1024);
  const exponent = scaled >= 1 ? Math.floor(Math.log2(scaled)) + 1 : 0;
  const i = Math.max(0, Math.min(units.length - 1, Math.floor((exponent - 1) / 10)));
  return `${Number((bytes / 2 ** (i * 10)).toPrecision(3))} ${units[i]}`;
}
