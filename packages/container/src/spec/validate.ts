// config.json → Spec, checking the shape the runtime relies on. Every error names the field the way a
// person would look for it in the file: `config.json: process.cwd: must be an absolute path, not "tmp"`.
import { IsolaError } from '@isola/errors';
import type { NamespaceType, Spec } from './types.js';

export class ConfigError extends IsolaError {
  constructor(field: string, problem: string, source = 'config.json') {
    super('ECONFIG', `${source}: ${field}: ${problem}`, { details: { field, source } });
    this.name = 'ConfigError';
  }
}

const NAMESPACES: NamespaceType[] = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'];

type Check = (value: unknown, field: string) => void;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const string: Check = (v, f) => {
  if (typeof v !== 'string') throw new ConfigError(f, `must be a string, not ${JSON.stringify(v)}`);
};
const integer: Check = (v, f) => {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(f, `must be an integer, not ${JSON.stringify(v)}`);
};
const boolean: Check = (v, f) => {
  if (typeof v !== 'boolean') throw new ConfigError(f, `must be true or false, not ${JSON.stringify(v)}`);
};
const absolute: Check = (v, f) => {
  string(v, f);
  if (!(v as string).startsWith('/')) throw new ConfigError(f, `must be an absolute path, not ${JSON.stringify(v)}`);
};
const arrayOf = (item: Check): Check => (v, f) => {
  if (!Array.isArray(v)) throw new ConfigError(f, `must be an array, not ${JSON.stringify(v)}`);
  v.forEach((x, i) => item(x, `${f}[${i}]`));
};
const object: Check = (v, f) => {
  if (!isObject(v)) throw new ConfigError(f, `must be an object, not ${JSON.stringify(v)}`);
};

function optional(obj: Record<string, unknown>, key: string, check: Check, prefix: string): void {
  if (obj[key] !== undefined) check(obj[key], `${prefix}${key}`);
}

function validateProcess(p: unknown): void {
  object(p, 'process');
  const process = p as Record<string, unknown>;
  object(process.user, 'process.user');
  const user = process.user as Record<string, unknown>;
  integer(user.uid, 'process.user.uid');
  integer(user.gid, 'process.user.gid');
  optional(user, 'umask', integer, 'process.user.');
  optional(user, 'additionalGids', arrayOf(integer), 'process.user.');
  arrayOf(string)(process.args, 'process.args');
  if ((process.args as string[]).length === 0) throw new ConfigError('process.args', 'must name the program to run');
  absolute(process.cwd, 'process.cwd');
  optional(process, 'env', arrayOf(string), 'process.');
  optional(process, 'terminal', boolean, 'process.');
  optional(process, 'noNewPrivileges', boolean, 'process.');
  optional(process, 'oomScoreAdj', integer, 'process.');
  if (process.capabilities !== undefined) {
    object(process.capabilities, 'process.capabilities');
    for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient']) {
      optional(process.capabilities as Record<string, unknown>, set, arrayOf(string), 'process.capabilities.');
    }
  }
  if (process.rlimits !== undefined) {
    arrayOf(object)(process.rlimits, 'process.rlimits');
    (process.rlimits as Record<string, unknown>[]).forEach((r, i) => {
      string(r.type, `process.rlimits[${i}].type`);
      integer(r.soft, `process.rlimits[${i}].soft`);
      integer(r.hard, `process.rlimits[${i}].hard`);
    });
  }
}

function validateLinux(l: unknown): void {
  object(l, 'linux');
  const linux = l as Record<string, unknown>;
  if (linux.namespaces !== undefined) {
    arrayOf(object)(linux.namespaces, 'linux.namespaces');
    const seen = new Set<string>();
    (linux.namespaces as Record<string, unknown>[]).forEach((ns, i) => {
      const field = `linux.namespaces[${i}]`;
      if (!NAMESPACES.includes(ns.type as NamespaceType)) throw new ConfigError(`${field}.type`, `unknown namespace type ${JSON.stringify(ns.type)}`);
      if (seen.has(ns.type as string)) throw new ConfigError(`${field}.type`, `namespace "${ns.type}" is listed twice`);
      seen.add(ns.type as string);
      optional(ns, 'path', absolute, `${field}.`);
    });
  }
  for (const key of ['uidMappings', 'gidMappings'] as const) {
    if (linux[key] === undefined) continue;
    arrayOf(object)(linux[key], `linux.${key}`);
    (linux[key] as Record<string, unknown>[]).forEach((m, i) => {
      for (const f of ['containerID', 'hostID', 'size']) integer(m[f], `linux.${key}[${i}].${f}`);
    });
  }
  optional(linux, 'maskedPaths', arrayOf(absolute), 'linux.');
  optional(linux, 'readonlyPaths', arrayOf(absolute), 'linux.');
  optional(linux, 'cgroupsPath', string, 'linux.');
  optional(linux, 'resources', object, 'linux.');
  optional(linux, 'seccomp', object, 'linux.');
  if (linux.devices !== undefined) {
    arrayOf(object)(linux.devices, 'linux.devices');
    (linux.devices as Record<string, unknown>[]).forEach((d, i) => {
      absolute(d.path, `linux.devices[${i}].path`);
      if (!['c', 'b', 'u', 'p'].includes(d.type as string)) throw new ConfigError(`linux.devices[${i}].type`, `must be c, b, u or p, not ${JSON.stringify(d.type)}`);
      if (d.type !== 'p') {
        integer(d.major, `linux.devices[${i}].major`);
        integer(d.minor, `linux.devices[${i}].minor`);
      }
    });
  }
  if (linux.sysctl !== undefined) {
    object(linux.sysctl, 'linux.sysctl');
    for (const [k, v] of Object.entries(linux.sysctl as Record<string, unknown>)) string(v, `linux.sysctl["${k}"]`);
  }
}

/** Parses and checks a config.json text; `source` names the file in messages. */
export function parseSpec(text: string, source = 'config.json'): Spec {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new IsolaError('ECONFIG', `${source}: not valid JSON (${(error as Error).message})`);
  }
  try {
    object(value, 'the top level');
    const spec = value as Record<string, unknown>;
    string(spec.ociVersion, 'ociVersion');
    object(spec.root, 'root');
    string((spec.root as Record<string, unknown>).path, 'root.path');
    optional(spec.root as Record<string, unknown>, 'readonly', boolean, 'root.');
    if (spec.process !== undefined) validateProcess(spec.process);
    optional(spec, 'hostname', string, '');
    optional(spec, 'domainname', string, '');
    if (spec.mounts !== undefined) {
      arrayOf(object)(spec.mounts, 'mounts');
      (spec.mounts as Record<string, unknown>[]).forEach((m, i) => {
        absolute(m.destination, `mounts[${i}].destination`);
        optional(m, 'source', string, `mounts[${i}].`);
        optional(m, 'type', string, `mounts[${i}].`);
        optional(m, 'options', arrayOf(string), `mounts[${i}].`);
      });
    }
    if (spec.linux !== undefined) validateLinux(spec.linux);
    return value as Spec;
  } catch (error) {
    if (error instanceof ConfigError && source !== 'config.json') throw new ConfigError(error.details.field as string, error.message.split(': ').slice(2).join(': '), source);
    throw error;
  }
}
