// The worker threads that run file-batch.ts `createFiles`: at most two (one per core on the hosts
// isola targets; more only queue on the same directory locks), started on the first batch that
// needs one and kept for the next layers. They hold no reference on the event loop while idle, so a
// process that has finished unpacking exits as before.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { createFiles, type BatchFile, type BatchResult } from './file-batch.js';

interface Request {
  id: number;
  files: readonly BatchFile[];
  data: ArrayBuffer;
}

export interface BatchReply {
  results: BatchResult[];
  /** The batch's data buffer, handed back (it was transferred, not copied). */
  data: Buffer;
}

/**
 * The worker's whole program, run from its source text with `createFiles` as its argument (an
 * imported name would not exist there: test runners rewrite those).
 */
function workerMain(create: typeof createFiles): void {
  const { parentPort } = require('node:worker_threads') as typeof import('node:worker_threads');
  const fs = require('node:fs') as typeof import('node:fs');
  parentPort!.on('message', (request: Request) => {
    const results = create(fs, request.files, new Uint8Array(request.data));
    parentPort!.postMessage({ id: request.id, results, data: request.data }, [request.data]);
  });
}

const SOURCE = `'use strict';\n(${workerMain.toString()})(${createFiles.toString()});\n`;

class FileWorker {
  private readonly worker = new Worker(SOURCE, { eval: true, name: 'isola-unpack-files' });
  private readonly pending = new Map<number, { resolve(reply: BatchReply): void; reject(error: Error): void }>();
  private nextId = 0;
  broken: Error | undefined;
  /** Running its program: until then (~50-100 ms) batches are better created on the caller's thread. */
  ready = false;

  readonly online: Promise<void>;

  constructor() {
    this.worker.unref();
    this.online = new Promise((resolve) => {
      this.worker.once('online', () => {
        this.ready = true;
        resolve();
      });
    });
    this.worker.on('message', (reply: { id: number; results: BatchResult[]; data: ArrayBuffer }) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      waiter?.resolve({ results: reply.results, data: Buffer.from(reply.data) });
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`file creation worker exited with code ${code}`)));
  }

  private fail(error: Error): void {
    this.broken ??= error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }

  /** Creates the files in the worker; `data` is transferred there and back. */
  run(files: readonly BatchFile[], data: ArrayBuffer): Promise<BatchReply> {
    if (this.broken !== undefined) return Promise.reject(this.broken);
    const id = this.nextId++;
    const reply = new Promise<BatchReply>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    if (this.pending.size === 1) this.worker.ref();
    this.worker.postMessage({ id, files, data } satisfies Request, [data]);
    return reply;
  }
}

export const FILE_WORKERS = Math.max(1, Math.min(2, availableParallelism()));

const workers: Array<FileWorker | undefined> = [];

/** Worker `slot` (0 ≤ slot < FILE_WORKERS), started now if it is not running. */
export function fileWorker(slot: number): FileWorker {
  let worker = workers[slot];
  if (worker === undefined || worker.broken !== undefined) workers[slot] = worker = new FileWorker();
  return worker;
}

/** Starts every worker and waits until they run (tests use it to be sure batches go to them). */
export async function startFileWorkers(): Promise<void> {
  await Promise.all(Array.from({ length: FILE_WORKERS }, (_, slot) => fileWorker(slot).online));
}

/** Whether any worker has been started (a small layer then need not start one). */
export function fileWorkersStarted(): boolean {
  return workers.some((worker) => worker !== undefined && worker.broken === undefined);
}
