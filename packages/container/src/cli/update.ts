// `isola-runtime update`: runc's flags (or --resources FILE|-, the JSON containerd sends) turned into
// the linux.resources fields to change. Pure parsing; container/update.ts applies them.
import { readFileSync } from 'node:fs';
import { IsolaError } from '@isola/errors';
import type { LinuxResources } from '../spec/types.js';
import type { FlagSpec, Parsed } from './args.js';

export const UPDATE_FLAGS: FlagSpec[] = [
  { name: 'resources', alias: 'r' }, { name: 'memory' }, { name: 'memory-swap' }, { name: 'memory-reservation' },
  { name: 'cpu-shares' }, { name: 'cpu-quota' }, { name: 'cpu-period' }, { name: 'cpu-rt-period', unsupported: true }, { name: 'cpu-rt-runtime', unsupported: true },
  { name: 'cpuset-cpus' }, { name: 'cpuset-mems' }, { name: 'pids-limit' }, { name: 'blkio-weight' },
  { name: 'kernel-memory', ignored: true }, { name: 'kernel-memory-tcp', ignored: true },
  { name: 'l3-cache-schema', unsupported: true }, { name: 'mem-bw-schema', unsupported: true },
];

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** A byte count as runc takes it: 1048576, 512m, 1g (binary units), or -1 for unlimited. */
export function parseBytes(value: string, flag: string): number {
  if (value === '-1') return -1;
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(value.trim());
  if (!match) throw new IsolaError('EUSAGE', `--${flag} ${JSON.stringify(value)}: expected bytes, e.g. 536870912 or 512m`);
  return Math.round(Number(match[1]) * UNITS[match[2]!.toLowerCase()]!);
}

function integer(value: string, flag: string): number {
  if (!/^-?\d+$/.test(value)) throw new IsolaError('EUSAGE', `--${flag} ${JSON.stringify(value)}: expected an integer`);
  return Number(value);
}

/** The resources to change: --resources' JSON first, then each flag on top of it. */
export function updateResources({ flags }: Parsed, readStdin = () => readFileSync(0, 'utf8')): LinuxResources {
  let resources: LinuxResources = {};
  const file = flags.resources;
  if (typeof file === 'string') {
    const text = file === '-' ? readStdin() : readFileSync(file, 'utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new IsolaError('EUSAGE', `--resources ${file}: not JSON (${(error as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new IsolaError('EUSAGE', `--resources ${file}: expected a linux.resources object`);
    resources = parsed as LinuxResources;
  }
  const get = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
  const memory = { ...resources.memory };
  const cpu = { ...resources.cpu };
  if (get('memory') !== undefined) memory.limit = parseBytes(get('memory')!, 'memory');
  if (get('memory-swap') !== undefined) memory.swap = parseBytes(get('memory-swap')!, 'memory-swap');
  if (get('memory-reservation') !== undefined) memory.reservation = parseBytes(get('memory-reservation')!, 'memory-reservation');
  if (get('cpu-shares') !== undefined) cpu.shares = integer(get('cpu-shares')!, 'cpu-shares');
  if (get('cpu-quota') !== undefined) cpu.quota = integer(get('cpu-quota')!, 'cpu-quota');
  if (get('cpu-period') !== undefined) cpu.period = integer(get('cpu-period')!, 'cpu-period');
  if (get('cpuset-cpus') !== undefined) cpu.cpus = get('cpuset-cpus');
  if (get('cpuset-mems') !== undefined) cpu.mems = get('cpuset-mems');
  if (Object.keys(memory).length) resources.memory = memory;
  if (Object.keys(cpu).length) resources.cpu = cpu;
  if (get('pids-limit') !== undefined) resources.pids = { limit: integer(get('pids-limit')!, 'pids-limit') };
  if (get('blkio-weight') !== undefined) resources.blockIO = { ...resources.blockIO, weight: integer(get('blkio-weight')!, 'blkio-weight') };
  return resources;
}
