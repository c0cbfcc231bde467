// Executes a layer's entries (layer/entry.ts) against a rootfs directory on the host: the I/O half of
// unpacking. One writer applies one layer; layers go one after another onto the same rootfs, which
// is how the whiteouts of a layer remove what lower layers created.
//
// Every path is resolved inside the rootfs with rootfs/resolve.ts, the last component is never
// followed (an entry replaces a symlink, it does not write through it), and files are created with
// O_EXCL, so nothing an archive says can make a write land outside the rootfs.
import { closeSync, fchmodSync, fchownSync, futimesSync, openSync, readFileSync, writeSync } from 'node:fs';
import { lchown, link, lstat, lutimes, mkdir, readdir, rm, symlink, chmod } from 'node:fs/promises';
import { LayerError, entryError, errnoCode } from '../errors.js';
import type { EntryAttributes, LayerEntry } from '../layer/entry.js';
import { joinLayerPath, parentOf } from '../layer/path.js';
import { FileQueue, QUEUED_FILE_MAX, type RetryFile } from './file-queue.js';
import { RootResolver } from './resolve.js';
import { defaultSpecialFiles, type NodeKind, type SpecialFileOps } from './special-files.js';

export interface WriterOptions {
  /**
   * No CAP_CHOWN or CAP_MKNOD: ownership is left to the unpacking user, and character and block
   * devices are skipped with a warning, as Podman (containers/storage) and Moby do in a user
   * namespace. umoci's --rootless writes an empty placeholder file instead; we do not, because a
   * placeholder looks like a real file to everything that reads the rootfs afterwards.
   */
  rootless?: boolean;
  specialFiles?: Partial<SpecialFileOps>;
  /**
   * `apply` (the default) deletes what whiteouts name from the rootfs below. `overlay` writes them the
   * way overlayfs reads a lower directory instead, for a layer unpacked into a directory of its own:
   * a whiteout becomes a 0:0 character device, an opaque marker the `trusted.overlay.opaque=y`
   * xattr (needs root and a setXattr provider).
   */
  whiteouts?: 'apply' | 'overlay';
}

export interface UnpackWarning {
  /** The entry as the archive named it. */
  entry: string;
  reason: string;
}

interface Times {
  atime: number;
  mtime: number;
}

/** Directories new to the rootfs get what mkdir -p gives them; a later entry may correct it. */
const IMPLICIT_DIR_MODE = 0o755;

export class RootfsWriter {
  private readonly resolver: RootResolver;
  private readonly rootless: boolean;
  private readonly special: SpecialFileOps;
  private readonly overlay: boolean;
  /** Resolved paths this layer created, and their ancestors: whiteouts must leave them alone. */
  private readonly upper = new Set<string>();
  /**
   * Directory times to set once the layer is done, because every entry written below a directory
   * changes its mtime: the layer's own value for directories in it, the old value for the others.
   */
  private readonly dirTimes = new Map<string, Times>();
  /** Rootless only: final directory modes, applied last so that 0555 directories can still be filled. */
  private readonly dirModes = new Map<string, number>();
  /** Directories this layer made without the setgid bit: files created in them get our own gid. */
  private readonly plainDirs = new Set<string>();
  /** Directories this layer created implicitly: new, so there are no earlier times to keep. */
  private readonly implicitDirs = new Set<string>();
  /** Resolved paths known to be directories now: files in them may be queued (file-queue.ts). */
  private readonly knownDirs = new Set<string>();
  private readonly queue = new FileQueue();
  readonly warnings: UnpackWarning[] = [];
  fileBytes = 0;

  constructor(root: string, options: WriterOptions = {}) {
    this.resolver = new RootResolver(root);
    this.rootless = options.rootless ?? false;
    this.special = { ...defaultSpecialFiles, ...options.specialFiles };
    this.overlay = options.whiteouts === 'overlay';
  }

  async apply(entry: LayerEntry, body: AsyncIterable<Buffer>): Promise<void> {
    try {
      await this.applyEntry(entry, body);
    } catch (error) {
      await this.abandon();
      if (error instanceof LayerError) throw error;
      throw entryError('ELAYER_APPLY', entry.name, describeFsError(error), error);
    }
  }

  /**
   * Waits for the files still being created, sets the deferred directory modes and times; call
   * once after the last entry.
   */
  async finish(): Promise<void> {
    try {
      await this.settle();
    } catch (error) {
      await this.abandon();
      throw error;
    }
    try {
      for (const [path, mode] of this.dirModes) await ignoreMissing(chmod(this.resolver.host(path), mode));
      for (const [path, times] of this.dirTimes) await ignoreMissing(lutimes(this.resolver.host(path), times.atime, times.mtime));
    } catch (error) {
      throw new LayerError('ELAYER_APPLY', `set directory times: ${describeFsError(error)}`, { cause: error });
    }
  }

  /**
   * After a failure elsewhere (a digest mismatch, a truncated blob): returns once no file worker
   * touches the rootfs any more, so that the caller can remove it.
   */
  async abandon(): Promise<void> {
    await this.queue.abandon();
  }

  private async applyEntry(entry: LayerEntry, body: AsyncIterable<Buffer>): Promise<void> {
    // Entries that remove, link or redirect wait for the queued files: their outcome depends on order.
    if (entry.kind !== 'file' && entry.kind !== 'directory' && entry.kind !== 'ignored') await this.settle();
    switch (entry.kind) {
      case 'ignored':
        return;
      case 'whiteout':
        if (this.overlay) return this.writeOverlayWhiteout(entry);
        return this.removeLower(await this.resolver.resolveEntry(entry.path), false);
      case 'opaque':
        if (this.overlay) return this.writeOverlayOpaque(entry);
        return this.removeLower(await this.resolver.resolveEntry(entry.path), true);
      case 'directory':
        return this.writeDirectory(entry);
      case 'file':
        return this.writeFile(entry, body);
      case 'symlink':
        return this.writeSymlink(entry);
      case 'hardlink':
        return this.writeHardlink(entry);
      case 'fifo':
        return this.writeNode(entry, 'fifo', 0, 0);
      case 'device':
        if (this.rootless) {
          this.warnings.push({ entry: entry.name, reason: `${entry.device} device ${entry.major}:${entry.minor} skipped: creating device nodes needs CAP_MKNOD (rootless)` });
          return;
        }
        return this.writeNode(entry, entry.device, entry.major, entry.minor);
    }
  }

  // --- creating entries -------------------------------------------------------------------------

  /** Resolves the entry, creates missing parents, and clears the way unless a directory stays. */
  private async prepare(path: string, keepDirectory: boolean): Promise<{ path: string; host: string; kept: boolean; mode: number }> {
    const resolved = await this.resolver.resolveEntry(path);
    const host = this.resolver.host(resolved);
    if (resolved !== '') await this.ensureParent(resolved);
    const existing = await lstatOrUndefined(host);
    let kept = false;
    if (existing !== undefined) {
      // layer.md "Changeset over existing files": directories merge, anything else is replaced.
      if (keepDirectory && existing.isDirectory()) kept = true;
      else await this.remove(resolved, existing.isDirectory());
    }
    this.markUpper(resolved);
    return { path: resolved, host, kept, mode: kept ? Number(existing!.mode) & 0o7777 : 0 };
  }

  private async writeDirectory({ path, name, attrs }: Extract<LayerEntry, { kind: 'directory' }>): Promise<void> {
    if (this.queue.conflicts(await this.resolver.resolveEntry(path))) await this.settle();
    const target = await this.prepare(path, true);
    // Files queued for this directory were told whether they need a chown under the old setgid bit.
    if (target.kept && (target.mode & 0o2000) !== (attrs.mode & 0o2000)) await this.settle();
    if ((attrs.mode & 0o2000) === 0) this.plainDirs.add(target.path);
    else this.plainDirs.delete(target.path);
    if (!target.kept) await mkdir(target.host, { mode: 0o700 });
    this.knownDirs.add(target.path);
    await this.setOwner(target.host, attrs);
    if (this.rootless) {
      await chmod(target.host, attrs.mode | 0o700);
      this.dirModes.set(target.path, attrs.mode);
    } else {
      await chmod(target.host, attrs.mode);
    }
    await this.setXattrs(name, target.host, attrs);
    this.dirTimes.set(target.path, { atime: attrs.atime, mtime: attrs.mtime });
  }

  /**
   * Files are most of a layer, and on some hosts every inode creation costs hundreds of µs of
   * kernel time. A small file whose parent is known to be a directory goes to the file workers
   * (file-queue.ts), which create it with the same syscalls as below while this thread goes on
   * reading the layer. Otherwise the common case takes four synchronous syscalls (open O_EXCL,
   * write, futimes, close) and no thread pool round trips. An O_EXCL create that fails (something
   * is there, or the parent is missing) falls back to the general path, which clears the way first.
   * chown and chmod are skipped when they would change nothing: our own ids in a parent known not
   * to be setgid, and a mode the umask leaves intact.
   */
  private async writeFile({ path, name, size, attrs }: Extract<LayerEntry, { kind: 'file' }>, body: AsyncIterable<Buffer>): Promise<void> {
    let resolved = await this.resolver.resolveEntry(path);
    if (this.queue.conflicts(resolved)) {
      await this.settle();
      resolved = await this.resolver.resolveEntry(path);
    }
    const parent = parentOf(resolved);
    const host = this.resolver.host(resolved);
    // Before the create, which changes the parent's mtime.
    await this.rememberTimes(parent);
    const ownIds = attrs.uid === EUID && attrs.gid === EGID && this.plainDirs.has(parent);
    const chown = !this.rootless && !ownIds;
    const chmod = chown || (attrs.mode & 0o7000) !== 0 || (attrs.mode & UMASK) !== 0;
    if (size <= QUEUED_FILE_MAX && attrs.xattrs.size === 0 && this.knownDirs.has(parent)) {
      const { mode, uid, gid, atime, mtime } = attrs;
      await this.queue.add(name, resolved, { host, mode, uid, gid, chown, chmod, atime, mtime }, size, body);
      this.markUpper(resolved);
      this.fileBytes += size;
      return;
    }
    let fd = createExclusive(host, attrs.mode & 0o777);
    if (fd !== undefined) {
      this.markUpper(resolved);
      this.knownDirs.add(parent);
    } else {
      const target = await this.prepare(path, false);
      // 'wx' is O_CREAT|O_EXCL: it fails rather than follow anything that appeared at this name.
      fd = openSync(target.host, 'wx', attrs.mode & 0o777);
    }
    try {
      for await (const chunk of body) {
        writeAllSync(fd, chunk);
        this.fileBytes += chunk.length;
      }
      if (chown) fchownSync(fd, attrs.uid, attrs.gid);
      // After chown, which clears setuid and setgid.
      if (chmod) fchmodSync(fd, attrs.mode);
      await this.setXattrs(name, host, attrs);
      futimesSync(fd, attrs.atime, attrs.mtime);
    } finally {
      closeSync(fd);
    }
  }

  /** A queued file the worker found something in the way of, on the general path. */
  private async redo({ name, path, file, data }: RetryFile): Promise<void> {
    try {
      const target = await this.prepare(path, false);
      const fd = openSync(target.host, 'wx', file.mode & 0o777);
      try {
        writeAllSync(fd, data);
        if (file.chown) fchownSync(fd, file.uid, file.gid);
        if (file.chmod) fchmodSync(fd, file.mode);
        futimesSync(fd, file.atime, file.mtime);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      if (error instanceof LayerError) throw error;
      throw entryError('ELAYER_APPLY', name, describeFsError(error), error);
    }
  }

  /** Waits for every queued file, redoing on this thread those that found something in the way. */
  private async settle(): Promise<void> {
    for (const retry of await this.queue.settle()) {
      await this.redo(retry);
      this.queue.done(retry.path);
    }
  }

  private async writeSymlink({ path, name, target: linkTarget, attrs }: Extract<LayerEntry, { kind: 'symlink' }>): Promise<void> {
    const target = await this.prepare(path, false);
    await symlink(linkTarget, target.host);
    this.resolver.forget();
    await this.setOwner(target.host, attrs);
    await this.setXattrs(name, target.host, attrs);
    await lutimes(target.host, attrs.atime, attrs.mtime);
  }

  private async writeHardlink({ path, name, target: linkTarget }: Extract<LayerEntry, { kind: 'hardlink' }>): Promise<void> {
    // Like the entry itself, the target's last component is not followed: a hard link to a
    // symlink links the symlink (link(2) does not follow either).
    const source = await this.resolver.resolveEntry(linkTarget);
    const sourceHost = this.resolver.host(source);
    const stat = await lstatOrUndefined(sourceHost);
    if (stat === undefined) {
      throw entryError('ELAYER_LINK', name, `hard link target "${linkTarget}" is not in this layer or a lower one`);
    }
    if (stat.isDirectory()) throw entryError('ELAYER_LINK', name, `hard link target "${linkTarget}" is a directory`);
    if (source === (await this.resolver.resolveEntry(path))) return;
    const target = await this.prepare(path, false);
    await link(sourceHost, target.host);
  }

  private async writeNode({ path, name, attrs }: Extract<LayerEntry, { kind: 'fifo' | 'device' }>, kind: NodeKind, major: number, minor: number): Promise<void> {
    const target = await this.prepare(path, false);
    await this.special.mknod(target.host, kind, attrs.mode & 0o777, major, minor);
    await this.setOwner(target.host, attrs);
    // The node is ours and new, so chmod (which follows symlinks) cannot be redirected.
    await chmod(target.host, attrs.mode);
    await this.setXattrs(name, target.host, attrs);
    await lutimes(target.host, attrs.atime, attrs.mtime);
  }

  // --- overlayfs whiteouts ----------------------------------------------------------------------

  private async writeOverlayWhiteout({ path, name }: Extract<LayerEntry, { kind: 'whiteout' }>): Promise<void> {
    // A whiteout hides lower layers only: what this layer made at that name stays.
    if (this.upper.has(await this.resolver.resolveEntry(path))) return;
    if (this.rootless) throw entryError('ELAYER_APPLY', name, 'overlay whiteouts are 0:0 device nodes, which need CAP_MKNOD (rootless)');
    const target = await this.prepare(path, false);
    await this.special.mknod(target.host, 'char', 0, 0, 0);
  }

  private async writeOverlayOpaque({ path, name }: Extract<LayerEntry, { kind: 'opaque' }>): Promise<void> {
    if (this.special.setXattr === undefined) {
      throw entryError('ELAYER_APPLY', name, 'an opaque directory in an overlay layer needs the trusted.overlay.opaque xattr, and no setXattr provider is set');
    }
    const target = await this.prepare(path, true);
    if (!target.kept) {
      await mkdir(target.host, { mode: IMPLICIT_DIR_MODE });
      await chmod(target.host, IMPLICIT_DIR_MODE);
    }
    await this.special.setXattr(target.host, 'trusted.overlay.opaque', Buffer.from('y'));
  }

  private async setOwner(host: string, attrs: EntryAttributes): Promise<void> {
    if (this.rootless) return;
    try {
      await lchown(host, attrs.uid, attrs.gid);
    } catch (error) {
      if (errnoCode(error) !== 'EPERM') throw error;
      throw Object.assign(new Error(`lchown("${host}", ${attrs.uid}, ${attrs.gid}): EPERM (not root? unpack with rootless: true)`), { cause: error });
    }
  }

  private async setXattrs(name: string, host: string, attrs: EntryAttributes): Promise<void> {
    if (attrs.xattrs.size === 0) return;
    if (this.special.setXattr === undefined) {
      this.warnings.push({ entry: name, reason: `xattrs not set (no setXattr provider): ${[...attrs.xattrs.keys()].join(', ')}` });
      return;
    }
    for (const [key, value] of attrs.xattrs) await this.special.setXattr(host, key, value);
  }

  // --- removing ---------------------------------------------------------------------------------

  /**
   * Removes what lower layers left at `path` (a whiteout), or under it (an opaque directory), while
   * keeping everything this layer created: layer.md says a whiteout only hides lower layers'
   * files, and an opaque marker applies first wherever it sits in the archive. Same walk as umoci.
   */
  private async removeLower(path: string, opaqueRoot: boolean): Promise<void> {
    const host = this.resolver.host(path);
    const stat = await lstatOrUndefined(host);
    if (stat === undefined) return;
    if (!opaqueRoot && !this.upper.has(path)) {
      await this.remove(path, stat.isDirectory());
      return;
    }
    if (!stat.isDirectory()) return;
    for (const child of await readdir(host)) await this.removeLower(joinLayerPath(path, child), false);
  }

  private async remove(path: string, recursive: boolean): Promise<void> {
    if (path === '') throw new LayerError('ELAYER_PATH', 'refusing to remove the rootfs itself');
    // A queued file may be inside what goes, or be what goes.
    await this.settle();
    await this.rememberTimes(parentOf(path));
    // rm does not follow symlinks, neither the one named nor any inside a removed tree.
    await rm(this.resolver.host(path), { recursive, force: true });
    this.resolver.forget();
    this.plainDirs.clear();
    this.knownDirs.clear();
  }

  // --- bookkeeping ------------------------------------------------------------------------------

  private markUpper(path: string): void {
    // `upper` only grows, and always with all ancestors: the first one already there ends the walk.
    for (let p = path; !this.upper.has(p); p = parentOf(p)) {
      this.upper.add(p);
      if (p === '') break;
    }
  }

  /** Records a directory's current times before this layer changes its contents (first time only). */
  private async rememberTimes(dir: string): Promise<void> {
    if (this.dirTimes.has(dir) || this.implicitDirs.has(dir)) return;
    const stat = await lstatOrUndefined(this.resolver.host(dir));
    if (stat === undefined || !stat.isDirectory()) return;
    this.knownDirs.add(dir);
    this.dirTimes.set(dir, { atime: Number(stat.atimeNs) / 1e9, mtime: Number(stat.mtimeNs) / 1e9 });
  }

  /** Creates the missing directories above `path` (already resolved), as mkdir -p would. */
  private async ensureParent(path: string): Promise<void> {
    const missing: string[] = [];
    let existing = parentOf(path);
    for (;;) {
      const stat = await lstatOrUndefined(this.resolver.host(existing));
      if (stat !== undefined) break;
      missing.push(existing);
      existing = parentOf(existing);
    }
    await this.rememberTimes(existing);
    for (const dir of missing.reverse()) {
      await mkdir(this.resolver.host(dir), { mode: IMPLICIT_DIR_MODE });
      await chmod(this.resolver.host(dir), IMPLICIT_DIR_MODE);
      this.markUpper(dir);
      this.plainDirs.add(dir);
      this.implicitDirs.add(dir);
      this.knownDirs.add(dir);
    }
  }
}

/** BigInt stats, for nanosecond times; undefined when nothing is there. */
async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path, { bigint: true });
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return undefined;
    throw error;
  }
}

async function ignoreMissing(operation: Promise<void>): Promise<void> {
  try {
    await operation;
  } catch (error) {
    // A directory removed by a later whiteout in the same layer.
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
}

/** "mkdir("/x/y"): ENOTDIR", from the syscall, path and errno Node puts on its errors. */
function describeFsError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (e?.syscall !== undefined && e.code !== undefined) return `${e.syscall}("${e.path ?? ''}"): ${e.code}`;
  return e instanceof Error ? e.message : String(error);
}

// The ids new files get, and the umask (from /proc: process.umask() without an argument is
// deprecated). Unknown umask: assume every bit, which makes every file get its chmod.
const EUID = process.geteuid?.() ?? -1;
const EGID = process.getegid?.() ?? -1;
const UMASK = (() => {
  try {
    const match = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? parseInt(match[1], 8) : 0o777;
  } catch {
    return 0o777;
  }
})();

/** O_CREAT|O_EXCL|O_WRONLY, or undefined when something is in the way (EEXIST, ENOENT, ENOTDIR). */
function createExclusive(host: string, mode: number): number | undefined {
  try {
    return openSync(host, 'wx', mode);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'EEXIST' || code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

function writeAllSync(fd: number, chunk: Buffer): void {
  for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at, chunk.length - at);
}
