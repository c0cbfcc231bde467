// The steps that build a container's root filesystem in its new mount namespace: mounts from the spec,
// device nodes, pivot_root, masked and read-only paths, sysctls. Pure planning plus host-side mount
// point creation (prepareRootfs); the steps run in the child, with no JavaScript there.
import { existsSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { abi, makedev, slot, type Step } from '@isola/sys';
import { type CgroupHost, readCgroupHost } from '../cgroups/index.js';
import type { Device, Mount, Spec } from '../spec/types.js';
import { parseMountOptions, rootfsPropagation } from './options.js';
import { createMountPoint, secureJoin } from './secure-join.js';
import { DIR_SLOT, ROOT_SLOT, createInRoot, mountStep, openInRoot, pinTarget } from './steps.js';

export interface RootfsInput {
  spec: Spec;
  /** Absolute host path of the root filesystem. */
  rootfs: string;
  /** Directory relative bind sources are resolved against (the bundle). */
  bundle: string;
  /** An fd number free in the child, where each mount target is pinned (and the next one, /dev/null). */
  fixedFd: number;
  /** The host's cgroup hierarchies, if the caller has read them already. */
  cgroupHost?: CgroupHost;
}

/** runc's default devices, created in every container with a /dev mount. */
export const DEFAULT_DEVICES: Device[] = [
  { type: 'c', path: '/dev/null', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/zero', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/full', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/random', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/urandom', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/tty', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
];

const DEV_LINKS: Array<[string, string]> = [
  ['/proc/self/fd', 'fd'], ['/proc/self/fd/0', 'stdin'], ['/proc/self/fd/1', 'stdout'], ['/proc/self/fd/2', 'stderr'],
  ['pts/ptmx', 'ptmx'], ['/proc/kcore', 'core'],
];


function isUnder(path: string, dir: string): boolean {
  return dir === '/' ? path !== '/' : path.startsWith(`${dir}/`);
}

function bindSource(mount: Mount, bundle: string): string {
  const source = mount.source ?? '';
  return source.startsWith('/') ? source : posix.join(bundle, source);
}

function isBind(mount: Mount): boolean {
  return mount.type === 'bind' || parseMountOptions(mount.options).bind;
}

/** Creates, on the host, the mount points that lie in the image's own files (not in a mount isola makes). */
export function prepareRootfs(input: RootfsInput): void {
  const mounts = input.spec.mounts ?? [];
  mounts.forEach((mount, i) => {
    if (mounts.slice(0, i).some((earlier) => isUnder(mount.destination, earlier.destination))) return;
    const fileBind = isBind(mount) && existsSync(bindSource(mount, input.bundle)) && !statSync(bindSource(mount, input.bundle)).isDirectory();
    createMountPoint(input.rootfs, mount.destination, fileBind ? 'file' : 'dir');
  });
}

function cgroupSteps(mount: Mount, target: string, fixedFd: number, flags: number, host: CgroupHost): Step[] {
  const at = `/proc/self/fd/${fixedFd}`;
  if (host.mode === 'v2') return [...pinTarget(target, fixedFd), mountStep('cgroup2', at, 'cgroup2', flags, null, `mount cgroup2 on ${target}`)];
  // v1 and hybrid: a tmpfs with one cgroup mount per hierarchy, as the container's cgroup namespace shows them.
  const steps: Step[] = [...pinTarget(target, fixedFd), mountStep('tmpfs', at, 'tmpfs', abi.MS_NOSUID | abi.MS_NODEV | abi.MS_NOEXEC, 'mode=755', `mount tmpfs on ${target}`)];
  const hierarchies = host.v1.map((h) => ({ name: posix.basename(h.mountpoint), data: h.name ? `none,name=${h.name}` : h.controllers.join(','), type: 'cgroup' }));
  if (host.v2) hierarchies.push({ name: posix.basename(host.v2.mountpoint), data: '', type: 'cgroup2' });
  for (const h of hierarchies) {
    const path = `${target}/${h.name}`;
    steps.push(...createInRoot(path, 'dir'), ...pinTarget(path, fixedFd));
    steps.push(mountStep('cgroup', at, h.type, flags, h.data || null, `mount ${h.type} ${h.data} on ${path}`));
  }
  if ((mount.options ?? []).includes('ro')) {
    steps.push(...pinTarget(target, fixedFd), mountStep(null, at, null, abi.MS_REMOUNT | abi.MS_RDONLY | abi.MS_NOSUID | abi.MS_NODEV | abi.MS_NOEXEC, 'mode=755', `remount ${target} read-only`));
  }
  return steps;
}

function mountSteps(mount: Mount, index: number, earlier: readonly Mount[], input: RootfsInput): Step[] {
  const target = mount.destination;
  const at = `/proc/self/fd/${input.fixedFd}`;
  const options = parseMountOptions(mount.options);
  const steps: Step[] = [];
  if (earlier.some((m) => isUnder(target, m.destination))) {
    const fileBind = isBind(mount) && existsSync(bindSource(mount, input.bundle)) && !statSync(bindSource(mount, input.bundle)).isDirectory();
    steps.push(...createInRoot(target, fileBind ? 'file' : 'dir'));
  }
  const what = `mounts[${index}] (${mount.type ?? 'bind'} on ${target})`;
  if (mount.type === 'cgroup') return [...steps, ...cgroupSteps(mount, target, input.fixedFd, options.flags, input.cgroupHost ?? readCgroupHost())];
  steps.push(...pinTarget(target, input.fixedFd));
  if (isBind(mount)) {
    steps.push(mountStep(bindSource(mount, input.bundle), at, null, abi.MS_BIND | (options.recursive ? abi.MS_REC : 0), null, what));
    const extra = options.flags & ~abi.MS_REMOUNT;
    if (extra) steps.push(...pinTarget(target, input.fixedFd), mountStep(null, at, null, abi.MS_REMOUNT | abi.MS_BIND | extra, null, `remount ${what}`));
  } else {
    const fstype = mount.type ?? 'none';
    steps.push(mountStep(mount.source ?? fstype, at, fstype, options.flags, options.data.join(',') || null, what));
  }
  if (options.propagation) steps.push(...pinTarget(target, input.fixedFd), mountStep(null, at, null, options.propagation, null, `propagation of ${target}`));
  return steps;
}

function deviceSteps(devices: readonly Device[]): Step[] {
  const steps: Step[] = [{ syscall: 'umask', args: [0], describe: 'umask(0) for device nodes' }];
  for (const device of devices) {
    const dir = posix.dirname(device.path);
    const name = posix.basename(device.path);
    if (dir !== '/dev') steps.push({ syscall: 'mkdirat', args: [slot(ROOT_SLOT), dir.slice(1), 0o755], describe: `mkdir ${dir}`, ignoreFailure: true });
    steps.push(openInRoot(dir, DIR_SLOT, true));
    const kind = device.type === 'b' ? abi.S_IFBLK : device.type === 'p' ? abi.S_IFIFO : abi.S_IFCHR;
    const mode = kind | (device.fileMode ?? 0o666);
    steps.push({ syscall: 'mknodat', args: [slot(DIR_SLOT), name, mode, makedev(device.major ?? 0, device.minor ?? 0)], describe: `mknod ${device.path}` });
    steps.push({ syscall: 'fchownat', args: [slot(DIR_SLOT), name, device.uid ?? 0, device.gid ?? 0, abi.AT_SYMLINK_NOFOLLOW], describe: `chown ${device.path}` });
    steps.push({ syscall: 'close', args: [slot(DIR_SLOT)], describe: `close(${dir})` });
  }
  steps.push(openInRoot('/dev', DIR_SLOT, true));
  for (const [target, name] of DEV_LINKS) {
    steps.push({ syscall: 'symlinkat', args: [target, slot(DIR_SLOT), name], describe: `symlink /dev/${name}`, ignoreFailure: true });
  }
  steps.push({ syscall: 'close', args: [slot(DIR_SLOT)], describe: 'close(/dev)' });
  return steps;
}

type Kind = 'dir' | 'file' | 'missing';
/** The host kernel's /proc and /sys entries keep their kind: stat them once per process (stat on /proc is slow). */
const kernelKinds = new Map<string, Kind>();

/** Is `path` (a container path) a directory? Kernel filesystems are judged by the host's own /proc and /sys. */
function kindOf(path: string, rootfs: string): Kind {
  const kernel = path.startsWith('/proc/') || path.startsWith('/sys/');
  const known = kernel ? kernelKinds.get(path) : undefined;
  if (known) return known;
  let kind: Kind;
  try {
    kind = statSync(kernel ? path : secureJoin(rootfs, path)).isDirectory() ? 'dir' : 'file';
  } catch {
    kind = 'missing';
  }
  if (kernel) kernelKinds.set(path, kind);
  return kind;
}

/**
 * Pins the container's /dev/null before pivot_root: the node isola itself just made in the /dev tmpfs,
 * so a /dev/null the container replaced with a symlink cannot turn a mask into something else
 * (CVE-2025-31133). (The host's own /dev/null cannot be the source: it is in another mount namespace.)
 */
function pinDevNull(input: RootfsInput): Step[] {
  return [
    // No symlink may stand in for it: a /dev/null pointing at, say, core_pattern would be mounted over
    // every masked file instead (where /dev is not a tmpfs of isola's, the node comes from the image).
    { ...openInRoot('/dev/null', DIR_SLOT, false, true), describe: 'open /dev/null (no symlinks) to mask paths with' },
    { syscall: 'dup3', args: [slot(DIR_SLOT), input.fixedFd + 1, abi.O_CLOEXEC], describe: 'pin /dev/null' },
    { syscall: 'close', args: [slot(DIR_SLOT)], describe: 'close(/dev/null)' },
  ];
}

function maskSteps(input: RootfsInput): Step[] {
  const steps: Step[] = [];
  for (const path of input.spec.linux?.maskedPaths ?? []) {
    const kind = kindOf(path, input.rootfs);
    if (kind === 'missing') continue;
    if (kind === 'file') steps.push(mountStep(`/proc/self/fd/${input.fixedFd + 1}`, path, null, abi.MS_BIND, null, `mask ${path}`));
    else steps.push(mountStep('tmpfs', path, 'tmpfs', abi.MS_RDONLY, null, `mask ${path}`));
  }
  for (const path of input.spec.linux?.readonlyPaths ?? []) {
    if (kindOf(path, input.rootfs) === 'missing') continue;
    steps.push(mountStep(path, path, null, abi.MS_BIND | abi.MS_REC, null, `bind ${path} for read-only`));
    steps.push(mountStep(path, path, null, abi.MS_BIND | abi.MS_REMOUNT | abi.MS_RDONLY | abi.MS_NOSUID | abi.MS_NODEV | abi.MS_NOEXEC, null, `remount ${path} read-only`));
  }
  return steps;
}

function sysctlSteps(sysctl: Record<string, string>): Step[] {
  const steps: Step[] = [];
  for (const [key, value] of Object.entries(sysctl)) {
    const path = `/proc/sys/${key.replace(/\./g, '/')}`;
    const bytes = Buffer.from(value);
    steps.push({ syscall: 'openat', args: [abi.AT_FDCWD, path, abi.O_WRONLY | abi.O_CLOEXEC, 0], describe: `open ${path} for sysctl ${key}`, saveTo: DIR_SLOT });
    steps.push({ syscall: 'write', args: [slot(DIR_SLOT), bytes, bytes.length], describe: `sysctl ${key}=${value}` });
    steps.push({ syscall: 'close', args: [slot(DIR_SLOT)], describe: `close(${path})` });
  }
  return steps;
}

/** Every step from "make the mount namespace private" to the final read-only remount of "/". */
export function planRootfs(input: RootfsInput): Step[] {
  const { spec, rootfs } = input;
  const mounts = spec.mounts ?? [];
  const steps: Step[] = [
    mountStep(null, '/', null, rootfsPropagation(spec.linux?.rootfsPropagation), null, 'make the mount namespace private'),
    mountStep(rootfs, rootfs, null, abi.MS_BIND | abi.MS_REC, null, `bind ${rootfs} onto itself`),
    { syscall: 'openat', args: [abi.AT_FDCWD, rootfs, abi.O_PATH | abi.O_DIRECTORY | abi.O_CLOEXEC, 0], describe: `open ${rootfs}`, saveTo: ROOT_SLOT },
  ];
  mounts.forEach((mount, i) => steps.push(...mountSteps(mount, i, mounts.slice(0, i), input)));
  if (mounts.some((m) => m.destination === '/dev')) {
    const paths = new Set((spec.linux?.devices ?? []).map((d) => d.path));
    steps.push(...deviceSteps([...DEFAULT_DEVICES.filter((d) => !paths.has(d.path)), ...(spec.linux?.devices ?? [])]));
  }
  const masksFiles = (spec.linux?.maskedPaths ?? []).some((p) => kindOf(p, rootfs) === 'file');
  if (masksFiles) steps.push(...pinDevNull(input));
  steps.push(
    { syscall: 'fchdir', args: [slot(ROOT_SLOT)], describe: `chdir ${rootfs}` },
    { syscall: 'pivot_root', args: ['.', '.'], describe: `pivot_root(${rootfs})` },
    { syscall: 'umount2', args: ['.', abi.MNT_DETACH], describe: 'detach the old root' },
    { syscall: 'chdir', args: ['/'], describe: 'chdir("/")' },
    { syscall: 'close', args: [slot(ROOT_SLOT)], describe: 'close the root fd' },
  );
  // sysctls first: /proc/sys is usually among the read-only paths.
  steps.push(...sysctlSteps(spec.linux?.sysctl ?? {}), ...maskSteps(input));
  if (spec.root?.readonly) steps.push(mountStep(null, '/', null, abi.MS_REMOUNT | abi.MS_BIND | abi.MS_RDONLY, null, 'remount / read-only'));
  if (spec.linux?.rootfsPropagation) steps.push(mountStep(null, '/', null, rootfsPropagation(spec.linux.rootfsPropagation), null, 'rootfs propagation'));
  return steps;
}
