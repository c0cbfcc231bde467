// `-v/--volume`, `--mount` and `--tmpfs` as docker reads them, parsed into what to mount where. Pure:
// whether a bind source exists and where a volume lives are looked at later (attach.ts).
import { posix } from 'node:path';
import { IsolaError } from '@isola/errors';
import { parseBytes } from '../limits/parse.js';

export type MountRequest =
  | { type: 'bind'; source: string; target: string; readonly: boolean; propagation?: string }
  /** `name` undefined: an anonymous volume, named when it is made. */
  | { type: 'volume'; name?: string; target: string; readonly: boolean; nocopy: boolean }
  /** `options`: mount options and tmpfs data (size=, mode=...), as mount(8) takes them. */
  | { type: 'tmpfs'; target: string; options: string[] };

export interface MountFlags {
  volume?: readonly string[];
  mount?: readonly string[];
  tmpfs?: readonly string[];
}

/** docker's local volume names: at least two characters. */
export const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const PROPAGATIONS = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);
const TMPFS_FLAGS = new Set(['ro', 'rw', 'exec', 'noexec', 'suid', 'nosuid', 'dev', 'nodev', 'atime', 'noatime', 'diratime', 'nodiratime', 'relatime', 'strictatime']);
const TMPFS_DATA = /^(size=\d+[kmg%]?|nr_inodes=\d+[kmg]?|nr_blocks=\d+[kmg]?|mode=[0-7]{3,4}|uid=\d+|gid=\d+)$/i;

const invalid = (flag: string, spec: string, why: string) => new IsolaError('EINVAL', `invalid ${flag} "${spec}": ${why}`);

function target(flag: string, spec: string, path: string | undefined): string {
  if (!path) throw invalid(flag, spec, 'no target path inside the container');
  if (!path.startsWith('/')) throw invalid(flag, spec, `the target ${path} is not an absolute path`);
  if (path.includes('\0')) throw invalid(flag, spec, 'the target contains a NUL byte');
  const clean = posix.normalize(path).replace(/(.)\/$/, '$1');
  if (clean === '/') throw invalid(flag, spec, 'the target cannot be /');
  return clean;
}

function source(flag: string, spec: string, path: string): string {
  if (path.includes('\0')) throw invalid(flag, spec, 'the source contains a NUL byte');
  return posix.normalize(path).replace(/(.)\/$/, '$1');
}

/** `-v SRC:DST[:OPTS]` or `-v DST` (an anonymous volume). SRC is a host path when absolute, else a volume name. */
export function parseVolumeFlag(spec: string): MountRequest {
  const flag = '--volume';
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw invalid(flag, spec, 'expected SOURCE:TARGET[:OPTIONS] or TARGET');
  if (parts.length === 1) return { type: 'volume', target: target(flag, spec, parts[0]), readonly: false, nocopy: false };
  const [src, dst, opts = ''] = parts as [string, string, string?];
  let readonly = false;
  let nocopy = false;
  let propagation: string | undefined;
  for (const opt of opts ? opts.split(',') : []) {
    if (opt === 'ro' || opt === 'rw') readonly = opt === 'ro';
    else if (opt === 'nocopy') nocopy = true;
    else if (PROPAGATIONS.has(opt)) propagation = opt;
    else if (opt !== 'z' && opt !== 'Z' && opt !== 'consistent' && opt !== 'cached' && opt !== 'delegated') throw invalid(flag, spec, `unknown option "${opt}" (ro, rw, nocopy or a propagation)`);
  }
  const dest = target(flag, spec, dst);
  if (src.startsWith('/')) {
    if (nocopy) throw invalid(flag, spec, 'nocopy applies to volumes, not to host paths');
    return { type: 'bind', source: source(flag, spec, src), target: dest, readonly, ...(propagation ? { propagation } : {}) };
  }
  if (!VOLUME_NAME.test(src)) {
    throw invalid(flag, spec, `"${src}" is neither an absolute host path nor a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+): to mount a host directory, give its absolute path`);
  }
  if (propagation) throw invalid(flag, spec, 'propagation applies to host paths, not to volumes');
  return { type: 'volume', name: src, target: dest, readonly, nocopy };
}

const TRUE = new Set(['', 'true', '1']);
const FALSE = new Set(['false', '0']);

function bool(spec: string, key: string, value: string): boolean {
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw invalid('--mount', spec, `${key}=${value}: expected true or false`);
}

/** `--mount type=bind|volume|tmpfs,source=...,target=...,readonly,...` (type defaults to volume). */
export function parseMountFlag(spec: string): MountRequest {
  const flag = '--mount';
  const fields = new Map<string, string>();
  for (const field of spec.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : field.slice(eq + 1);
    const canonical = { src: 'source', dst: 'target', destination: 'target', ro: 'readonly' }[key] ?? key;
    if (!['type', 'source', 'target', 'readonly', 'bind-propagation', 'volume-nocopy', 'tmpfs-size', 'tmpfs-mode', 'consistency'].includes(canonical)) {
      throw invalid(flag, spec, `unknown key "${key}"`);
    }
    if (eq < 0 && canonical !== 'readonly' && canonical !== 'volume-nocopy') throw invalid(flag, spec, `"${key}" needs a value (${key}=...)`);
    fields.set(canonical, value);
  }
  const type = fields.get('type') ?? 'volume';
  const dest = target(flag, spec, fields.get('target'));
  const readonly = fields.has('readonly') && bool(spec, 'readonly', fields.get('readonly')!);
  const src = fields.get('source');
  const only = (keys: string[], what: string) => {
    for (const key of keys) if (fields.has(key)) throw invalid(flag, spec, `${key} does not apply to type=${what}`);
  };
  if (type === 'bind') {
    only(['volume-nocopy', 'tmpfs-size', 'tmpfs-mode'], type);
    if (!src) throw invalid(flag, spec, 'type=bind needs a source');
    if (!src.startsWith('/')) throw invalid(flag, spec, `the bind source ${src} is not an absolute path`);
    const propagation = fields.get('bind-propagation');
    if (propagation !== undefined && !PROPAGATIONS.has(propagation)) throw invalid(flag, spec, `unknown bind-propagation "${propagation}"`);
    return { type: 'bind', source: source(flag, spec, src), target: dest, readonly, ...(propagation ? { propagation } : {}) };
  }
  if (type === 'volume') {
    only(['bind-propagation', 'tmpfs-size', 'tmpfs-mode'], type);
    if (src !== undefined && src !== '' && !VOLUME_NAME.test(src)) throw invalid(flag, spec, `"${src}" is not a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)`);
    const nocopy = fields.has('volume-nocopy') && bool(spec, 'volume-nocopy', fields.get('volume-nocopy')!);
    return { type: 'volume', ...(src ? { name: src } : {}), target: dest, readonly, nocopy };
  }
  if (type === 'tmpfs') {
    only(['source', 'bind-propagation', 'volume-nocopy'], type);
    const options: string[] = [];
    if (readonly) options.push('ro');
    const size = fields.get('tmpfs-size');
    if (size !== undefined) options.push(`size=${parseBytes(size, 'tmpfs-size')}`);
    const mode = fields.get('tmpfs-mode');
    if (mode !== undefined) {
      if (!/^[0-7]{1,4}$/.test(mode)) throw invalid(flag, spec, `tmpfs-mode=${mode}: expected an octal mode`);
      options.push(`mode=${mode.padStart(4, '0')}`);
    }
    return { type: 'tmpfs', target: dest, options };
  }
  throw invalid(flag, spec, `unknown type "${type}" (bind, volume or tmpfs)`);
}

/** `--tmpfs DST[:OPTS]`, OPTS as mount(8) takes them for tmpfs (size=64m,mode=1777,noexec...). */
export function parseTmpfsFlag(spec: string): MountRequest {
  const colon = spec.indexOf(':');
  const dest = target('--tmpfs', spec, colon < 0 ? spec : spec.slice(0, colon));
  const options = colon < 0 ? [] : spec.slice(colon + 1).split(',').filter(Boolean);
  for (const option of options) {
    if (!TMPFS_FLAGS.has(option) && !TMPFS_DATA.test(option)) throw invalid('--tmpfs', spec, `unknown option "${option}"`);
  }
  return { type: 'tmpfs', target: dest, options };
}

/** Every mount the flags ask for; two on one target is an error, as in docker. */
export function parseMountFlags(flags: MountFlags): MountRequest[] {
  const requests = [
    ...(flags.volume ?? []).map(parseVolumeFlag),
    ...(flags.mount ?? []).map(parseMountFlag),
    ...(flags.tmpfs ?? []).map(parseTmpfsFlag),
  ];
  const seen = new Set<string>();
  for (const request of requests) {
    if (seen.has(request.target)) throw new IsolaError('EINVAL', `duplicate mount point: ${request.target}`);
    seen.add(request.target);
  }
  return requests;
}
