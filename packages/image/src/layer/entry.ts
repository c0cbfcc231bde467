// What one tar entry means to a rootfs, decided without touching the filesystem: the OCI changeset
// rules (layer.md: whiteouts `.wh.<name>`, opaque directories `.wh..wh..opq`) and the lexical safety
// checks. The writer (rootfs/writer.ts) executes these; an overlayfs writer can later execute the
// same entries as whiteout devices and `trusted.overlay.opaque` instead.
import { entryError } from '../errors.js';
import type { TarEntry } from '../tar/reader.js';
import { baseOf, joinLayerPath, normalizeLayerPath, parentOf } from './path.js';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
/** aufs kept its own bookkeeping under `.wh..wh.*` (plnk, aufs, orph); it means nothing to a rootfs. */
const AUFS_META_PREFIX = '.wh..wh.';

export interface EntryAttributes {
  /** Permission bits including setuid, setgid and sticky (07777). */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch, possibly fractional. */
  mtime: number;
  atime: number;
  xattrs: Map<string, Buffer>;
}

interface Named {
  /** Normalized layer path ('' is the rootfs). */
  path: string;
  /** The name as the archive spelled it, for messages. */
  name: string;
}

export type LayerEntry =
  | (Named & { kind: 'directory'; attrs: EntryAttributes })
  | (Named & { kind: 'file'; size: number; attrs: EntryAttributes })
  | (Named & { kind: 'symlink'; target: string; attrs: EntryAttributes })
  /** A hard link carries no attributes of its own: it shares the inode of `target` (a layer path). */
  | (Named & { kind: 'hardlink'; target: string })
  | (Named & { kind: 'device'; device: 'char' | 'block'; major: number; minor: number; attrs: EntryAttributes })
  | (Named & { kind: 'fifo'; attrs: EntryAttributes })
  /** Remove `path` as the lower layers left it. */
  | (Named & { kind: 'whiteout' })
  /** Hide everything the lower layers put under the directory `path`. */
  | (Named & { kind: 'opaque' })
  | (Named & { kind: 'ignored'; reason: string });

export type LayerEntryKind = LayerEntry['kind'];

function attributesOf({ header, xattrs }: TarEntry): EntryAttributes {
  return {
    mode: header.mode & 0o7777,
    uid: header.uid,
    gid: header.gid,
    mtime: header.mtime,
    atime: header.atime ?? header.mtime,
    xattrs,
  };
}

function whiteoutOf(path: string, name: string): LayerEntry | undefined {
  const base = baseOf(path);
  if (!base.startsWith(WHITEOUT_PREFIX)) return undefined;
  if (base === OPAQUE_WHITEOUT) return { kind: 'opaque', path: parentOf(path), name };
  if (base.startsWith(AUFS_META_PREFIX)) return { kind: 'ignored', path, name, reason: 'aufs metadata' };
  const victim = base.slice(WHITEOUT_PREFIX.length);
  // normalizeLayerPath dropped '.' and '..' as whole components, but `.wh..` names '.' and
  // `.wh...` names '..': a whiteout of the parent directory or of its parent.
  if (victim === '' || victim === '.' || victim === '..') {
    throw entryError('ELAYER_PATH', name, `whiteout names ${JSON.stringify(victim)}, which is not a file in its directory`);
  }
  return { kind: 'whiteout', path: joinLayerPath(parentOf(path), victim), name };
}

/** The meaning of one tar entry, or a LayerError naming the entry when it is unsafe or invalid. */
export function planEntry(entry: TarEntry): LayerEntry {
  const { header } = entry;
  const name = header.name;
  const path = normalizeLayerPath(name, name);

  const whiteout = whiteoutOf(path, name);
  if (whiteout !== undefined) return whiteout;

  // The rootfs may get new attributes, but never a new type: a symlink there would redirect
  // every later entry.
  if (path === '' && header.type !== 'directory') {
    throw entryError('ELAYER_PATH', name, `a ${header.type} entry would replace the rootfs itself`);
  }

  switch (header.type) {
    case 'directory':
      return { kind: 'directory', path, name, attrs: attributesOf(entry) };
    case 'file':
      return { kind: 'file', path, name, size: header.size, attrs: attributesOf(entry) };
    case 'symlink':
      // Stored verbatim: a symlink is only dangerous when followed, and nothing here follows one
      // out of the rootfs (rootfs/resolve.ts).
      if (header.linkname === '') throw entryError('ELAYER_PATH', name, 'symlink with an empty target');
      return { kind: 'symlink', path, name, target: header.linkname, attrs: attributesOf(entry) };
    case 'hardlink': {
      if (header.linkname === '') throw entryError('ELAYER_LINK', name, 'hard link with an empty target');
      let target: string;
      try {
        target = normalizeLayerPath(header.linkname, name, 'hard link target');
      } catch (error) {
        throw entryError('ELAYER_LINK', name, `hard link target ${JSON.stringify(header.linkname)} is outside the rootfs`, error);
      }
      if (target === '') throw entryError('ELAYER_LINK', name, 'hard link to the rootfs directory');
      if (target === path) throw entryError('ELAYER_LINK', name, 'hard link to itself');
      return { kind: 'hardlink', path, name, target };
    }
    case 'char-device':
    case 'block-device':
      return {
        kind: 'device',
        path,
        name,
        device: header.type === 'char-device' ? 'char' : 'block',
        major: header.devmajor,
        minor: header.devminor,
        attrs: attributesOf(entry),
      };
    case 'fifo':
      return { kind: 'fifo', path, name, attrs: attributesOf(entry) };
    default:
      // Extended headers never reach here: the tar reader folds them into the next entry.
      throw entryError('ELAYER_TAR', name, `unexpected ${header.type} entry`);
  }
}
