// What a user says about a disk: its path and options, from the library (DiskOptions) or the command
// line (`--disk PATH[,ro][,format=qcow2|raw][,id=NAME]`, parsed here without touching the file).
import type { ImageFormat } from '@isola/qcow2';
import { hypervisorError } from '../../errors.js';
import { ID_BYTES } from './request.js';

export interface DiskOptions {
  path: string;
  readOnly?: boolean;
  /** Detected from the file when absent (a qcow2 magic, else raw). */
  format?: ImageFormat;
  /** What GET_ID reports (20 bytes at most); the file name by default. */
  id?: string;
}

/** Splits at single commas; a doubled comma is a comma of the path or value (QEMU's -drive rule). */
function splitOptions(spec: string): string[] {
  return spec.split(/(?<!,),(?!,)/).map((part) => part.replaceAll(',,', ','));
}

/** Parses the CLI's `PATH[,ro]` (also `PATH,readonly`, `PATH,format=raw`, `PATH,id=NAME`). */
export function parseDiskSpec(spec: string): DiskOptions {
  const [path, ...options] = splitOptions(spec);
  if (!path) throw hypervisorError('EVM_CONFIG', `--disk "${spec}": the path is empty`, { spec });
  const disk: DiskOptions = { path };
  for (const option of options) {
    const eq = option.indexOf('=');
    const key = eq < 0 ? option : option.slice(0, eq);
    const value = eq < 0 ? undefined : option.slice(eq + 1);
    if ((key === 'ro' || key === 'readonly') && value === undefined) disk.readOnly = true;
    else if (key === 'rw' && value === undefined) disk.readOnly = false;
    else if (key === 'format' && (value === 'qcow2' || value === 'raw')) disk.format = value;
    else if (key === 'id' && value !== undefined && Buffer.byteLength(value) <= ID_BYTES) disk.id = value;
    else throw hypervisorError('EVM_CONFIG', `--disk "${spec}": unknown option "${option}" (expected ro, format=qcow2|raw or id=NAME up to 20 bytes)`, { spec });
  }
  return disk;
}
