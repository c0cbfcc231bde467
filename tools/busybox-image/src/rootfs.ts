// The plan of the image's root filesystem: which directories, files and links go into the layer, in
// which order. Pure: it takes the applet list and the binary's bytes and touches no disk, so the
// layout rules are tested without a busybox on the host.
import { IsolaError } from '@isola/errors';

export type RootfsEntry =
  | { type: 'directory'; path: string; mode: number }
  | { type: 'file'; path: string; mode: number; content: Buffer }
  /** A hard link to `target`, as in docker's official busybox image: one inode, many names. */
  | { type: 'link'; path: string; mode: number; target: string };

export const BUSYBOX_PATH = 'bin/busybox';

// What a container runtime expects to find (mount points, a writable /tmp, root's home), with the
// modes a Debian base image gives them.
const BASE_DIRECTORIES: Record<string, number> = {
  dev: 0o755,
  etc: 0o755,
  home: 0o755,
  proc: 0o755,
  root: 0o700,
  sys: 0o755,
  tmp: 0o1777,
  var: 0o755,
};

// nobody's home and shell match docker's busybox image. hosts and resolv.conf are placeholders the
// runtime bind-mounts over; they exist so that there is a file to mount onto.
const ETC_FILES: Record<string, string> = {
  'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n',
  'etc/group': 'root:x:0:\nnobody:x:65534:\n',
  'etc/hosts': '',
  'etc/resolv.conf': '',
};

/** An applet path comes from running a binary: it must stay a plain relative path inside the rootfs. */
function checkAppletPath(path: string): void {
  const segments = path.split('/');
  if (!segments.every((s) => s !== '' && s !== '.' && s !== '..' && !s.includes('\0'))) {
    throw new IsolaError('EBUSYBOX_APPLET', `busybox listed an unusable applet path ${JSON.stringify(path)}`, { details: { path } });
  }
}

function parents(path: string): string[] {
  const segments = path.split('/');
  return segments.slice(1).map((_, i) => segments.slice(0, i + 1).join('/'));
}

// Directories first so that every parent precedes its children, then regular files, then the hard
// links, so that the one busybox file precedes every link to it (an extractor needs the target to
// exist). Within a group, byte order: localeCompare would make the digest depend on the locale.
const RANK = { directory: 0, file: 1, link: 2 } as const;

function compare(a: RootfsEntry, b: RootfsEntry): number {
  if (a.type !== b.type) return RANK[a.type] - RANK[b.type];
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** The layer's entries for `busybox` (its bytes) and `applets` (the output of `busybox --list-full`). */
export function planRootfs(applets: readonly string[], busybox: Buffer): RootfsEntry[] {
  const links = [...new Set(applets)].filter((path) => path !== BUSYBOX_PATH);
  links.forEach(checkAppletPath);

  const directories = new Map(Object.entries(BASE_DIRECTORIES));
  for (const path of [BUSYBOX_PATH, ...Object.keys(ETC_FILES), ...links]) {
    for (const parent of parents(path)) if (!directories.has(parent)) directories.set(parent, 0o755);
  }

  const entries: RootfsEntry[] = [
    ...[...directories].map(([path, mode]): RootfsEntry => ({ type: 'directory', path, mode })),
    { type: 'file', path: BUSYBOX_PATH, mode: 0o755, content: busybox },
    ...Object.entries(ETC_FILES).map(([path, text]): RootfsEntry => ({ type: 'file', path, mode: 0o644, content: Buffer.from(text) })),
    ...links.map((path): RootfsEntry => ({ type: 'link', path, mode: 0o755, target: BUSYBOX_PATH })),
  ];
  const taken = new Set<string>();
  for (const { path } of entries) {
    if (taken.has(path)) throw new IsolaError('EBUSYBOX_APPLET', `busybox applet ${JSON.stringify(path)} collides with a base path`, { details: { path } });
    taken.add(path);
  }
  return entries.sort(compare);
}
