import { describe, expect, it } from 'vitest';
import { LogReader, formatTimestamp } from './log-file.js';

function record(ns: bigint, stream: number, text: string): Buffer {
  const data = Buffer.from(text);
  const header = Buffer.alloc(16);
  header.writeBigInt64LE(ns, 0);
  header.writeUInt32LE(data.length, 8);
  header.writeUInt32LE(stream, 12);
  return Buffer.concat([header, data]);
}

describe('LogReader', () => {
  it('splits records into lines per stream, stamped with the time their first byte came', () => {
    const reader = new LogReader();
    const bytes = Buffer.concat([record(1n, 1, 'a\nb'), record(2n, 2, 'err\n'), record(3n, 1, 'c\nd\n')]);
    const lines = reader.push(bytes);
    expect(lines.map((l) => [l.stream, l.time, l.text.toString()])).toEqual([
      ['stdout', 1n, 'a\n'], ['stderr', 2n, 'err\n'], ['stdout', 1n, 'bc\n'], ['stdout', 3n, 'd\n'],
    ]);
    expect(reader.offset).toBe(bytes.length);
  });

  it('leaves a partial record for the next read, and flushes a last line without newline', () => {
    const reader = new LogReader();
    const bytes = Buffer.concat([record(1n, 1, 'x\n'), record(2n, 1, 'tail')]);
    expect(reader.push(bytes.subarray(0, bytes.length - 2)).length).toBe(1);
    expect(reader.offset).toBe(18);
    expect(reader.push(bytes.subarray(18))).toEqual([]);
    expect(reader.flush().map((l) => l.text.toString())).toEqual(['tail']);
  });

  it('formats timestamps as RFC 3339 with nanoseconds', () => {
    expect(formatTimestamp(1_700_000_000_123_456_789n)).toBe('2023-11-14T22:13:20.123456789Z');
  });
});
