// linux.cgroupsPath → the path of the container's cgroup below each hierarchy root. Two forms exist:
// the OCI form `/a/b`, and the systemd form `slice:prefix:name` that containerd, podman and Kubernetes
// pass when they run with a systemd cgroup driver. We do not talk to systemd over D-Bus; like runc's fs
// driver under such a caller, we create the directories systemd would have created
// (`system.slice:docker:abc` → `/system.slice/docker-abc.scope`).
import { IsolaError } from '@isola/errors';

const FIELD = 'linux.cgroupsPath';

function invalid(cgroupsPath: string, why: string): IsolaError {
  return new IsolaError('EINVALIDCONFIG', `${FIELD}: ${JSON.stringify(cgroupsPath)} ${why}`, { details: { field: FIELD, cgroupsPath } });
}

/** True for `slice:prefix:name`; an OCI path never has two colons and never lacks a leading slash with them. */
export function isSystemdCgroupsPath(cgroupsPath: string): boolean {
  return !cgroupsPath.startsWith('/') && cgroupsPath.split(':').length === 3;
}

/**
 * `a-b-c.slice` → `/a.slice/a-b.slice/a-b-c.slice`: systemd nests a slice inside the slices named by
 * its dash-separated prefixes. `-.slice` is the root slice.
 */
export function expandSlice(slice: string): string {
  if (!slice.endsWith('.slice')) throw invalid(slice, 'names a slice that does not end in ".slice"');
  const name = slice.slice(0, -'.slice'.length);
  if (name === '-') return '/';
  if (name.includes('/') || name.startsWith('-') || name.endsWith('-') || name.includes('--')) throw invalid(slice, 'is not a valid systemd slice name');
  let path = '';
  let prefix = '';
  for (const component of name.split('-')) {
    prefix = prefix === '' ? component : `${prefix}-${component}`;
    path += `/${prefix}.slice`;
  }
  return path;
}

/**
 * The cgroup's path relative to every hierarchy root, always absolute and normalised (`/a/b`).
 * Relative OCI paths are taken relative to the roots too (runc would nest them under its own cgroup,
 * which for a runtime started by a supervisor is rarely what the caller meant).
 */
export function resolveCgroupsPath(cgroupsPath: string): string {
  if (cgroupsPath === '') throw invalid(cgroupsPath, 'is empty (the caller passes the container id when config.json has none)');
  let path: string;
  if (isSystemdCgroupsPath(cgroupsPath)) {
    const [slice, prefix, name] = cgroupsPath.split(':') as [string, string, string];
    if (name === '') throw invalid(cgroupsPath, 'has an empty unit name');
    // A name that is itself a slice is used as is, like systemd's driver does; otherwise a scope is made.
    const unit = name.endsWith('.slice') ? name : `${prefix === '' ? '' : `${prefix}-`}${name}.scope`;
    const parent = name.endsWith('.slice') ? '' : expandSlice(slice === '' ? 'system.slice' : slice);
    path = `${parent === '/' ? '' : parent}/${unit}`;
  } else {
    path = cgroupsPath.startsWith('/') ? cgroupsPath : `/${cgroupsPath}`;
  }
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  // A cgroupsPath comes from config.json: it must never reach outside the hierarchy it is joined to.
  if (parts.includes('..')) throw invalid(cgroupsPath, 'must not contain ".."');
  if (parts.length === 0) throw invalid(cgroupsPath, 'names the root cgroup, which a container must not use');
  return `/${parts.join('/')}`;
}
