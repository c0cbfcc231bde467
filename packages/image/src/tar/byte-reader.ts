// Pull-style reads of exact byte counts from a chunked stream: what a tar parser needs (512-byte
// headers, bodies of known size) on top of what a Node stream gives (chunks of any size).

export class ByteReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private chunk: Buffer = Buffer.alloc(0);
  private ended = false;
  /** Bytes handed out or skipped so far: the offset of the next byte in the stream. */
  position = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** False at the end of the stream. */
  private async fill(): Promise<boolean> {
    while (this.chunk.length === 0) {
      if (this.ended) return false;
      const next = await this.iterator.next();
      if (next.done) {
        this.ended = true;
        return false;
      }
      this.chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    }
    return true;
  }

  /** Up to `max` bytes (whatever the current chunk holds), or undefined at the end of the stream. */
  async take(max: number): Promise<Buffer | undefined> {
    if (max <= 0 || !(await this.fill())) return undefined;
    const out = this.chunk.subarray(0, Math.min(max, this.chunk.length));
    this.chunk = this.chunk.subarray(out.length);
    this.position += out.length;
    return out;
  }

  /** Exactly `n` bytes; fewer (possibly none) only when the stream ends first. */
  async read(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const part = await this.take(n - got);
      if (part === undefined) break;
      parts.push(part);
      got += part.length;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, got);
  }

  /** Skips `n` bytes; returns how many there were. */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    while (skipped < n) {
      const part = await this.take(n - skipped);
      if (part === undefined) break;
      skipped += part.length;
    }
    return skipped;
  }

  /** Reads to the end, so that anything hashing the stream sees every byte; returns the count. */
  async drain(): Promise<number> {
    let count = 0;
    for (let part = await this.take(Infinity); part !== undefined; part = await this.take(Infinity)) count += part.length;
    return count;
  }

  /** Stops the source early (on error), letting it release files and zlib state. */
  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}
