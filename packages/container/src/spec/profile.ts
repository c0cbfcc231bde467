// The security profile of the containers isola itself creates (`isola run`): Docker's defaults. The 14
// capabilities, Docker's seccomp profile, masked and read-only /proc and /sys paths, only the default
// devices, no_new_privs, and a fresh namespace of every kind but user and time.
import { defaultProfile } from '../seccomp/index.js';
import { DEFAULT_CAPABILITIES, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, defaultSpec } from './default.js';
import type { Spec } from './types.js';

export interface ProfileOptions {
  args: string[];
  env?: string[];
  cwd?: string;
  hostname?: string;
  /** Capabilities to add to or drop from Docker's 14 (`--cap-add`, `--cap-drop`; ALL works for both). */
  capAdd?: string[];
  capDrop?: string[];
  /** `--security-opt seccomp=unconfined`. */
  seccomp?: boolean;
  readOnly?: boolean;
}

const normalise = (cap: string): string => (cap.toUpperCase().startsWith('CAP_') ? cap.toUpperCase() : `CAP_${cap.toUpperCase()}`);

export function containerCapabilities(add: readonly string[] = [], drop: readonly string[] = []): string[] {
  let caps = new Set(DEFAULT_CAPABILITIES);
  if (drop.some((c) => c.toUpperCase() === 'ALL')) caps = new Set();
  for (const cap of drop) caps.delete(normalise(cap));
  for (const cap of add) caps.add(normalise(cap));
  return [...caps];
}

export function containerSpec(options: ProfileOptions): Spec {
  const spec = defaultSpec();
  const caps = containerCapabilities(options.capAdd, options.capDrop);
  spec.process = {
    ...spec.process!,
    terminal: false,
    args: options.args,
    env: options.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    cwd: options.cwd ?? '/',
    capabilities: { bounding: caps, effective: caps, permitted: caps },
    rlimits: [],
    noNewPrivileges: true,
  };
  spec.root = { path: 'rootfs', readonly: options.readOnly ?? false };
  spec.hostname = options.hostname ?? 'isola';
  spec.linux = {
    ...spec.linux,
    maskedPaths: [...DEFAULT_MASKED_PATHS],
    readonlyPaths: [...DEFAULT_READONLY_PATHS],
    namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
    resources: { devices: [{ allow: false, access: 'rwm' }] },
  };
  if (options.seccomp !== false) spec.linux.seccomp = defaultProfile(caps);
  return spec;
}
