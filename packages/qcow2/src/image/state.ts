// What the read and write executors of one open qcow2 image share.
import type { Geometry } from '../format/geometry.js';
import type { Snapshot } from '../format/snapshot.js';
import type { Qcow2Header } from '../format/header.js';
import type { ImageFile } from './file.js';
import type { Image } from './image.js';
import type { L2Tables } from './l2-tables.js';
import type { Refcounts } from './refcounts.js';

export interface Qcow2State {
  readonly file: ImageFile;
  readonly header: Qcow2Header;
  readonly g: Geometry;
  /** Virtual size: changes on resize. */
  size: number;
  readonly tables: L2Tables;
  /** Loaded only for writable images. */
  readonly refcounts: Refcounts | undefined;
  readonly backing: Image | undefined;
  /** The external data file, when the image keeps its data clusters there (host offsets point into it). */
  readonly dataFile: ImageFile | undefined;
  /** Lazy refcounts: refcount updates wait for flush/close, the dirty bit covers a crash in between. */
  lazy: boolean;
  /** The internal snapshot table, as read at open (and rewritten by snapshot operations). */
  snapshots: Snapshot[];
}
