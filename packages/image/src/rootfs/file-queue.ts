// Small regular files on their way to the file workers (file-pool.ts), for one layer's writer.
//
// The writer queues a file only where the outcome cannot depend on the order of creation: its parent
// is a directory known to exist, nothing else queued has the same path or is one of its ancestors,
// and every entry that removes, links or redirects (whiteouts, replacements, hard links, symlinks,
// device nodes) waits for the queue to empty first (`settle`). Files of one parent directory go to
// the same worker, in order: creations in one directory serialize on its lock in the kernel anyway.
import * as fs from 'node:fs';
import { LayerError, entryError } from '../errors.js';
import { parentOf } from '../layer/path.js';
import { createFiles, isRetryable, type BatchFile, type BatchResult } from './file-batch.js';
import { FILE_WORKERS, fileWorker, fileWorkersStarted } from './file-pool.js';

/** Files up to this size are queued; larger ones are written on the main thread. */
export const QUEUED_FILE_MAX = 256 * 1024;
const BATCH_BYTES = 1024 * 1024;
const BATCH_FILES = 64;
/** Batches handed to one worker and not yet back; adding more waits. */
const OUTSTANDING_PER_WORKER = 2;

/** A queued file the worker found something in the way of: the writer redoes it, in this order. */
export interface RetryFile {
  /** The entry as the archive named it. */
  name: string;
  /** Resolved layer path. */
  path: string;
  file: BatchFile;
  data: Buffer;
}

interface Batch {
  files: BatchFile[];
  names: string[];
  paths: string[];
  order: number[];
  data: Buffer;
  used: number;
}

/** Data buffers back from the workers, for the next batches (1 MiB allocations showed up as GC time). */
const spare: Buffer[] = [];
const SPARE_MAX = 2 * FILE_WORKERS * (OUTSTANDING_PER_WORKER + 1);

function newBatch(): Batch {
  // Its own ArrayBuffer (not a slice of Node's pool), so it can be transferred to a worker.
  const data = spare.pop() ?? Buffer.from(new ArrayBuffer(BATCH_BYTES));
  return { files: [], names: [], paths: [], order: [], data, used: 0 };
}

export class FileQueue {
  private readonly open: Array<Batch | undefined> = [];
  private readonly running: Array<Set<Promise<void>>> = Array.from({ length: FILE_WORKERS }, () => new Set());
  private readonly slots = new Map<string, number>();
  private nextSlot = 0;
  private sequence = 0;
  /** Resolved paths queued and not yet created (or waiting to be redone). */
  private readonly paths = new Set<string>();
  private retries: Array<RetryFile & { order: number }> = [];
  private failure: LayerError | undefined;

  /** Whether `path` itself or one of its ancestors is still queued. */
  conflicts(path: string): boolean {
    if (this.paths.size === 0) return false;
    for (let p = path; ; p = parentOf(p)) {
      if (this.paths.has(p)) return true;
      if (p === '') return false;
    }
  }

  /** Queues a file of `length` bytes read from `body`; may wait for a worker to catch up. */
  async add(name: string, path: string, file: Omit<BatchFile, 'offset' | 'length'>, length: number, body: AsyncIterable<Buffer>): Promise<void> {
    const slot = this.slotOf(parentOf(path));
    let batch = this.open[slot];
    if (batch !== undefined && (batch.used + length > BATCH_BYTES || batch.files.length >= BATCH_FILES)) {
      await this.dispatch(slot);
      batch = undefined;
    }
    batch ??= this.open[slot] = newBatch();
    let at = batch.used;
    for await (const chunk of body) {
      if (at + chunk.length > batch.used + length) throw entryError('ELAYER_TAR', name, `file data longer than its header's ${length} bytes`);
      at += chunk.copy(batch.data, at);
    }
    if (at !== batch.used + length) throw entryError('ELAYER_TRUNCATED', name, `file data shorter than its header's ${length} bytes`);
    batch.files.push({ ...file, offset: batch.used, length });
    batch.names.push(name);
    batch.paths.push(path);
    batch.order.push(this.sequence++);
    batch.used = at;
    this.paths.add(path);
  }

  /**
   * Waits until every queued file is created, and returns those to redo on the general path (in
   * archive order); the writer calls `done` for each once it has. Throws the first failure.
   */
  async settle(): Promise<RetryFile[]> {
    const inline = !fileWorkersStarted();
    for (let slot = 0; slot < this.open.length; slot++) {
      const batch = this.open[slot];
      if (batch === undefined) continue;
      if (inline) {
        // Too few files for this layer to have started a worker: not worth starting one now.
        this.open[slot] = undefined;
        this.collect(batch, createFiles(fs, batch.files, batch.data), batch.data);
      } else {
        await this.dispatch(slot);
      }
    }
    await this.wait();
    if (this.failure !== undefined) throw this.failure;
    const retries = this.retries.sort((a, b) => a.order - b.order);
    this.retries = [];
    return retries;
  }

  /** The writer has redone a file `settle` returned. */
  done(path: string): void {
    this.paths.delete(path);
  }

  /** After a failure: waits for the workers to stop touching the rootfs, and forgets the rest. */
  async abandon(): Promise<void> {
    this.open.length = 0;
    await this.wait();
    this.retries = [];
    this.paths.clear();
  }

  private async wait(): Promise<void> {
    for (const running of this.running) await Promise.all(running);
  }

  private slotOf(parent: string): number {
    let slot = this.slots.get(parent);
    if (slot === undefined) {
      slot = this.nextSlot;
      this.nextSlot = (this.nextSlot + 1) % FILE_WORKERS;
      this.slots.set(parent, slot);
    }
    return slot;
  }

  private async dispatch(slot: number): Promise<void> {
    const batch = this.open[slot];
    this.open[slot] = undefined;
    if (batch === undefined || batch.files.length === 0) return;
    const worker = fileWorker(slot);
    if (!worker.ready) {
      // Still starting: this batch is not worth the wait.
      this.collect(batch, createFiles(fs, batch.files, batch.data), batch.data);
      return;
    }
    const running = this.running[slot];
    while (running.size >= OUTSTANDING_PER_WORKER) await Promise.race(running);
    const done: Promise<void> = worker
      .run(batch.files, batch.data.buffer as ArrayBuffer)
      .then(
        (reply) => this.collect(batch, reply.results, reply.data),
        (error: Error) => {
          this.failure ??= new LayerError('ELAYER_APPLY', `create files: ${error.message}`, { cause: error });
        },
      )
      .finally(() => running.delete(done));
    running.add(done);
  }

  private collect(batch: Batch, results: BatchResult[], data: Buffer): void {
    results.forEach((result, i) => {
      const file = batch.files[i];
      if (result === undefined) {
        this.paths.delete(batch.paths[i]);
      } else if (isRetryable(result)) {
        const bytes = Buffer.from(data.subarray(file.offset, file.offset + file.length));
        this.retries.push({ name: batch.names[i], path: batch.paths[i], file, data: bytes, order: batch.order[i] });
      } else {
        this.paths.delete(batch.paths[i]);
        this.failure ??= entryError('ELAYER_APPLY', batch.names[i], `${result.syscall}("${file.host}"): ${result.code}`);
      }
    });
    // Retries hold copies, so the buffer is free again.
    if (spare.length < SPARE_MAX) spare.push(data);
  }
}
