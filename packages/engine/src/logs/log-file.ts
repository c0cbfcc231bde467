// Reading the log the monitor writes: records of { i64 ns, u32 length, u32 stream } + bytes (monitor.S),
// turned into lines per stream, each stamped with the time its first byte arrived, as `docker logs` shows.
import { LOG_HEADER_SIZE, STREAM } from '../monitor/monitor.js';

export interface LogLine {
  stream: 'stdout' | 'stderr';
  /** Nanoseconds since the epoch. */
  time: bigint;
  /** The line, with its newline (the last line of a stream may lack one). */
  text: Buffer;
}

/** Splits records into lines; `from` is a byte offset, and `end` where the last whole record ended. */
export class LogReader {
  #pending = new Map<number, { time: bigint; parts: Buffer[] }>();
  offset = 0;

  /** Consumes whole records of `bytes` (which starts at this.offset), returning finished lines. */
  push(bytes: Buffer): LogLine[] {
    const lines: LogLine[] = [];
    let at = 0;
    while (at + LOG_HEADER_SIZE <= bytes.length) {
      const time = bytes.readBigInt64LE(at);
      const length = bytes.readUInt32LE(at + 8);
      const stream = bytes.readUInt32LE(at + 12);
      if (at + LOG_HEADER_SIZE + length > bytes.length) break;
      let data = bytes.subarray(at + LOG_HEADER_SIZE, at + LOG_HEADER_SIZE + length);
      at += LOG_HEADER_SIZE + length;
      for (;;) {
        const pending = this.#pending.get(stream) ?? { time, parts: [] };
        const newline = data.indexOf(10);
        if (newline < 0) {
          if (data.length) pending.parts.push(data);
          if (pending.parts.length) this.#pending.set(stream, pending);
          break;
        }
        pending.parts.push(data.subarray(0, newline + 1));
        lines.push({ stream: stream === STREAM.stderr ? 'stderr' : 'stdout', time: pending.time, text: Buffer.concat(pending.parts) });
        this.#pending.delete(stream);
        data = data.subarray(newline + 1);
      }
    }
    this.offset += at;
    return lines;
  }

  /** Lines not ended by a newline (at the end of the log). */
  flush(): LogLine[] {
    const lines = [...this.#pending.entries()].map(([stream, p]) => ({
      stream: stream === STREAM.stderr ? ('stderr' as const) : ('stdout' as const), time: p.time, text: Buffer.concat(p.parts),
    }));
    this.#pending.clear();
    return lines.sort((a, b) => (a.time < b.time ? -1 : 1));
  }
}

/** RFC 3339 with nanoseconds, as docker's --timestamps: 2024-05-01T10:00:00.123456789Z. */
export function formatTimestamp(ns: bigint): string {
  const iso = new Date(Number(ns / 1_000_000n)).toISOString();
  return `${iso.slice(0, 19)}.${String(ns % 1_000_000_000n).padStart(9, '0')}Z`;
}
