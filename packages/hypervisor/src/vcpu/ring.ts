// A single-producer, single-consumer byte ring in a SharedArrayBuffer: the vCPU worker writes console
// bytes without a message per byte, the main thread sleeps in Atomics.waitAsync until there are some.
// The producer blocks while the ring is full, as a UART's transmitter stays busy, so no output is lost.

const WRITE = 0;
const READ = 1;
const CLOSED = 2;
const HEADER_BYTES = 16;
/** Longest a consumer sleeps without looking at CLOSED (see pump). */
const CLOSE_POLL_MS = 100;

/** ES2024's Atomics.waitAsync (Node 16+), which the project's ES2023 lib does not declare. */
type WaitAsync = (array: Int32Array, index: number, value: number, timeout?: number) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

export class ByteRing {
  readonly buffer: SharedArrayBuffer;
  readonly #header: Int32Array;
  readonly #data: Uint8Array;
  readonly #mask: number;

  constructor(bufferOrCapacity: SharedArrayBuffer | number = 1 << 16) {
    this.buffer =
      typeof bufferOrCapacity === 'number' ? new SharedArrayBuffer(HEADER_BYTES + bufferOrCapacity) : bufferOrCapacity;
    const capacity = this.buffer.byteLength - HEADER_BYTES;
    if (capacity <= 0 || (capacity & (capacity - 1)) !== 0) throw new RangeError(`ring capacity ${capacity} is not a power of two`);
    this.#header = new Int32Array(this.buffer, 0, 4);
    this.#data = new Uint8Array(this.buffer, HEADER_BYTES, capacity);
    this.#mask = capacity - 1;
  }

  /** Producer: appends bytes, waiting for room while the ring is full (unless it was closed). */
  write(bytes: Uint8Array | number): void {
    const data = typeof bytes === 'number' ? [bytes] : bytes;
    let w = Atomics.load(this.#header, WRITE);
    for (const byte of data) {
      for (;;) {
        const r = Atomics.load(this.#header, READ);
        if (((w - r) >>> 0) <= this.#mask) break;
        if (Atomics.load(this.#header, CLOSED)) return;
        Atomics.store(this.#header, WRITE, w);
        Atomics.notify(this.#header, WRITE);
        Atomics.wait(this.#header, READ, r, 100);
      }
      this.#data[w & this.#mask] = byte;
      w = (w + 1) | 0;
    }
    Atomics.store(this.#header, WRITE, w);
    Atomics.notify(this.#header, WRITE);
  }

  /** Either side: no more bytes will come; a waiting consumer wakes and finishes. */
  close(): void {
    Atomics.store(this.#header, CLOSED, 1);
    Atomics.notify(this.#header, WRITE);
    Atomics.notify(this.#header, READ);
  }

  /** Consumer: whatever is there now (a copy), possibly empty. */
  take(): Uint8Array {
    const r = Atomics.load(this.#header, READ);
    const w = Atomics.load(this.#header, WRITE);
    const n = (w - r) >>> 0;
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.#data[(r + i) & this.#mask]!;
    Atomics.store(this.#header, READ, w);
    Atomics.notify(this.#header, READ);
    return out;
  }

  /**
   * Consumer: calls onData for each batch until the ring is closed and drained. The wait is bounded
   * (as the producer's is): close() does not change WRITE, so a close that lands after the checks
   * below and before the wait starts leaves no change to wake on, and its notify reaches nobody. An
   * unbounded wait then hung for good (a CI run's ring test timed out after 30 s).
   */
  async pump(onData: (bytes: Uint8Array) => void): Promise<void> {
    for (;;) {
      const seen = Atomics.load(this.#header, WRITE);
      const closed = Atomics.load(this.#header, CLOSED);
      const bytes = this.take();
      if (bytes.length > 0) onData(bytes);
      if (closed) return;
      if (Atomics.load(this.#header, WRITE) !== seen || Atomics.load(this.#header, CLOSED)) continue;
      const wait = waitAsync(this.#header, WRITE, seen, CLOSE_POLL_MS);
      if (wait.async) await wait.value;
    }
  }
}
