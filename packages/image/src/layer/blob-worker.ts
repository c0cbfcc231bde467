// Reading a layer blob file on a worker thread: the read, both digests and gunzip run there, and the
// tar bytes come back in 1 MiB chunks (transferred, not copied). On the main thread they cost ~0.5 s
// per 100 MB of a layer (sha256 twice, zlib's stream plumbing, garbage), time the tar parser and the
// file writers need; with the worker, decompression and file creation overlap across two cores.
//
// One worker serves every unpack of the process, one job per blob, and holds no reference on the
// event loop while idle. Flow control is by credit: the worker stops reading when the main thread
// holds CREDIT chunks it has not taken yet.
import { Worker } from 'node:worker_threads';

const CHUNK = 1 << 20;
const CREDIT = 4;

export interface WorkerBlobDigests {
  /** Hex digests, of the blob as stored and of the tar. */
  digest: string;
  diffId: string;
  blobBytes: number;
  tarBytes: number;
}

/** Why a job failed: reading the file, or decompressing it (with zlib's error code). */
export interface WorkerBlobFailure {
  stage: 'read' | 'gunzip';
  code: string | undefined;
  message: string;
}

type Reply =
  | { type: 'data'; id: number; data: ArrayBuffer }
  | ({ type: 'end'; id: number } & WorkerBlobDigests)
  | ({ type: 'error'; id: number } & WorkerBlobFailure);

interface Start {
  type: 'start';
  id: number;
  path: string;
  gunzip: boolean;
  blobAlgorithm: string;
  tarAlgorithm: string;
  chunk: number;
  credit: number;
}

/** The worker's program, run from its source text: no references outside itself. */
function blobWorkerMain(): void {
  const { parentPort } = require('node:worker_threads') as typeof import('node:worker_threads');
  const { createReadStream } = require('node:fs') as typeof import('node:fs');
  const { createGunzip } = require('node:zlib') as typeof import('node:zlib');
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  const { Transform, pipeline } = require('node:stream') as typeof import('node:stream');
  const port = parentPort!;
  const jobs = new Map<number, { credit: number; wake: (() => void) | undefined; cancelled: boolean; stop: () => void }>();

  port.on('message', async (message: Start | { type: 'ack' | 'cancel'; id: number }) => {
    if (message.type !== 'start') {
      const job = jobs.get(message.id);
      if (job === undefined) return;
      if (message.type === 'ack') job.credit++;
      else {
        job.cancelled = true;
        job.stop();
      }
      job.wake?.();
      return;
    }
    const { id } = message;
    const blobHash = createHash(message.blobAlgorithm);
    const tarHash = createHash(message.tarAlgorithm);
    let blobBytes = 0;
    let tarBytes = 0;
    const input = createReadStream(message.path, { highWaterMark: message.chunk });
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        blobHash.update(chunk);
        blobBytes += chunk.length;
        callback(null, chunk);
      },
    });
    const output = message.gunzip
      ? pipeline(input, tap, createGunzip({ chunkSize: message.chunk }), () => {})
      : pipeline(input, tap, () => {});
    const job = { credit: message.credit, wake: undefined as (() => void) | undefined, cancelled: false, stop: () => output.destroy() };
    jobs.set(id, job);
    try {
      for await (const chunk of output as AsyncIterable<Buffer>) {
        tarHash.update(chunk);
        tarBytes += chunk.length;
        // A chunk that is a whole buffer is done with (zlib starts a new one when one is full) and
        // travels as it is; a slice of a buffer zlib goes on filling travels as a copy.
        let data = chunk.buffer as ArrayBuffer;
        if (chunk.byteOffset !== 0 || chunk.byteLength !== data.byteLength) {
          const copy = Buffer.allocUnsafeSlow(chunk.length);
          chunk.copy(copy);
          data = copy.buffer as ArrayBuffer;
        }
        while (job.credit === 0 && !job.cancelled) await new Promise<void>((resolve) => (job.wake = resolve));
        if (job.cancelled) break;
        job.credit--;
        port.postMessage({ type: 'data', id, data }, [data]);
      }
      if (!job.cancelled) port.postMessage({ type: 'end', id, digest: blobHash.digest('hex'), diffId: tarHash.digest('hex'), blobBytes, tarBytes });
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      if (!job.cancelled) port.postMessage({ type: 'error', id, stage: e.syscall === undefined ? 'gunzip' : 'read', code: e.code, message: e.message });
    } finally {
      jobs.delete(id);
      input.destroy();
    }
  });
}

const SOURCE = `'use strict';\n(${blobWorkerMain.toString()})();\n`;

interface Job {
  chunks: Buffer[];
  wake: (() => void) | undefined;
  end: WorkerBlobDigests | undefined;
  failure: WorkerBlobFailure | undefined;
}

class BlobWorker {
  private readonly worker = new Worker(SOURCE, { eval: true, name: 'isola-unpack-blob' });
  private readonly jobs = new Map<number, Job>();
  private nextId = 0;
  broken: Error | undefined;

  constructor() {
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => {
      const job = this.jobs.get(reply.id);
      if (job === undefined) return;
      if (reply.type === 'data') job.chunks.push(Buffer.from(reply.data));
      else if (reply.type === 'end') job.end = reply;
      else job.failure = reply;
      job.wake?.();
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`blob reader worker exited with code ${code}`)));
  }

  private fail(error: Error): void {
    this.broken ??= error;
    for (const job of this.jobs.values()) {
      job.failure ??= { stage: 'read', code: undefined, message: error.message };
      job.wake?.();
    }
  }

  /** The tar bytes of the blob at `path`; `onEnd` gets the digests before the iteration ends. */
  async *read(path: string, gunzip: boolean, blobAlgorithm: string, tarAlgorithm: string, onEnd: (digests: WorkerBlobDigests) => void): AsyncGenerator<Buffer> {
    const id = this.nextId++;
    const job: Job = { chunks: [], wake: undefined, end: undefined, failure: undefined };
    this.jobs.set(id, job);
    if (this.jobs.size === 1) this.worker.ref();
    let finished = false;
    try {
      this.worker.postMessage({ type: 'start', id, path, gunzip, blobAlgorithm, tarAlgorithm, chunk: CHUNK, credit: CREDIT } satisfies Start);
      for (;;) {
        const chunk = job.chunks.shift();
        if (chunk !== undefined) {
          this.worker.postMessage({ type: 'ack', id });
          yield chunk;
          continue;
        }
        if (job.failure !== undefined) {
          finished = true;
          throw new WorkerBlobError(job.failure);
        }
        if (job.end !== undefined) {
          finished = true;
          onEnd(job.end);
          return;
        }
        await new Promise<void>((resolve) => (job.wake = resolve));
        job.wake = undefined;
      }
    } finally {
      if (!finished && this.broken === undefined) this.worker.postMessage({ type: 'cancel', id });
      this.jobs.delete(id);
      if (this.jobs.size === 0) this.worker.unref();
    }
  }
}

/** A failure reported by the worker, for blob.ts to name the way it names its own. */
export class WorkerBlobError extends Error {
  constructor(readonly failure: WorkerBlobFailure) {
    super(failure.message);
  }
}

let shared: BlobWorker | undefined;

/** Starts the shared worker ahead of its first blob, so that its start overlaps other work. */
export function startBlobWorker(): void {
  if (shared === undefined || shared.broken !== undefined) shared = new BlobWorker();
}

/** Reads, hashes and (for gzip) decompresses the blob file at `path` on the shared worker. */
export function readBlobInWorker(path: string, gunzip: boolean, blobAlgorithm: string, tarAlgorithm: string, onEnd: (digests: WorkerBlobDigests) => void): AsyncIterable<Buffer> {
  startBlobWorker();
  return shared!.read(path, gunzip, blobAlgorithm, tarAlgorithm, onEnd);
}
