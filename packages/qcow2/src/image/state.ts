// What the read and write executors of one open qcow2 image share.
import type { Geometry } from '../format/geometry.js';
import type { Qcow2Header } from '../format/header.js';
import type { ImageFile } from './file.js';
import type { Image } from './image.js';
import type { L2Tables } from './l2-tables.js';
import type { Refcounts } from './refcounts.js';

export interface Qcow2State {
  readonly file: ImageFile;
  readonly header: Qcow2Header;
  readonly g: Geometry;
  readonly size: number;
  readonly tables: L2Tables;
  /** Loaded only for writable images. */
  readonly refcounts: Refcounts | undefined;
  readonly backing: Image | undefined;
}
