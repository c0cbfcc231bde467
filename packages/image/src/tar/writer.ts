// Writes the plain archives isola exports (OCI archives, docker-archive): regular files and
// directories with short names, ustar headers, nothing else. Header encoding is a pure function;
// TarWriter does the I/O with backpressure.
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { LayerError } from '../errors.js';
import { BLOCK_SIZE } from './header.js';

export interface WriteHeader {
  name: string;
  size: number;
  type: 'file' | 'directory';
  mode?: number;
  /** Seconds since the epoch; 0 by default, so archives of the same blobs are byte-identical. */
  mtime?: number;
}

function octal(block: Buffer, value: number, start: number, length: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\0`, start, length, 'latin1');
}

/** One ustar header block. Names longer than 100 bytes are refused (isola never writes one). */
export function encodeHeader(header: WriteHeader): Buffer {
  const name = Buffer.from(header.name, 'utf8');
  if (name.length > 100) throw new LayerError('ELAYER_TAR', `tar name ${JSON.stringify(header.name)} is longer than 100 bytes`);
  if (!Number.isSafeInteger(header.size) || header.size < 0 || header.size >= 8 ** 11) {
    throw new LayerError('ELAYER_TAR', `tar entry ${JSON.stringify(header.name)}: size ${header.size} does not fit a ustar header`);
  }
  const block = Buffer.alloc(BLOCK_SIZE);
  name.copy(block, 0);
  octal(block, header.mode ?? (header.type === 'directory' ? 0o755 : 0o644), 100, 8);
  octal(block, 0, 108, 8);
  octal(block, 0, 116, 8);
  octal(block, header.type === 'directory' ? 0 : header.size, 124, 12);
  octal(block, Math.floor(header.mtime ?? 0), 136, 12);
  block.fill(0x20, 148, 156);
  block.write(header.type === 'directory' ? '5' : '0', 156, 'latin1');
  block.write('ustar\0' + '00', 257, 'latin1');
  block.write('root', 265, 'latin1');
  block.write('root', 297, 'latin1');
  let sum = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) sum += block[i];
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

export function paddingOf(size: number): Buffer {
  return Buffer.alloc((BLOCK_SIZE - (size % BLOCK_SIZE)) % BLOCK_SIZE);
}

export class TarWriter {
  constructor(private readonly out: Writable) {}

  private async write(bytes: Buffer): Promise<void> {
    if (bytes.length === 0) return;
    if (!this.out.write(bytes)) await once(this.out, 'drain');
  }

  async directory(name: string): Promise<void> {
    await this.write(encodeHeader({ name: name.endsWith('/') ? name : `${name}/`, size: 0, type: 'directory' }));
  }

  /** A file from bytes, a path on disk, or a stream of exactly `size` bytes. */
  async file(name: string, content: Buffer | { path: string } | AsyncIterable<Uint8Array>, size?: number): Promise<void> {
    const length = Buffer.isBuffer(content) ? content.length : size;
    if (length === undefined) throw new LayerError('ELAYER_TAR', `tar entry ${name}: size unknown`);
    await this.write(encodeHeader({ name, size: length, type: 'file' }));
    let written = 0;
    if (Buffer.isBuffer(content)) {
      await this.write(content);
      written = content.length;
    } else {
      const source = 'path' in content ? createReadStream(content.path, { highWaterMark: 1 << 20 }) : content;
      for await (const chunk of source) {
        const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        written += bytes.length;
        await this.write(bytes);
      }
    }
    if (written !== length) throw new LayerError('ELAYER_TAR', `tar entry ${name}: expected ${length} bytes, the source gave ${written}`);
    await this.write(paddingOf(length));
  }

  /** The end-of-archive marker; the caller ends the stream. */
  async finish(): Promise<void> {
    await this.write(Buffer.alloc(BLOCK_SIZE * 2));
  }
}
