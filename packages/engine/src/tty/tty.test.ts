// The pieces of -i/-t that need no container: the monitor's log records read raw, and the stdio swap
// around the clone of a process (checked on this process's own fds, then restored).
import { readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LOG_HEADER_SIZE } from '../monitor/monitor.js';
import { parseRecords } from './attach.js';
import { withStdio } from './stdio.js';

function record(stream: number, text: string): Buffer {
  const header = Buffer.alloc(LOG_HEADER_SIZE);
  header.writeBigInt64LE(1n, 0);
  header.writeUInt32LE(Buffer.byteLength(text), 8);
  header.writeUInt32LE(stream, 12);
  return Buffer.concat([header, Buffer.from(text)]);
}

describe('raw log records', () => {
  it('gives whole records as they are (a prompt without a newline too), and stops before a partial one', () => {
    const bytes = Buffer.concat([record(1, '/ # '), record(2, 'oops\n'), record(1, 'partial')]);
    const { records, consumed } = parseRecords(bytes.subarray(0, bytes.length - 3));
    expect(records.map((r) => `${r.stream}:${r.data}`)).toEqual(['stdout:/ # ', 'stderr:oops\n']);
    expect(consumed).toBe(2 * LOG_HEADER_SIZE + 4 + 5);
    expect(parseRecords(Buffer.alloc(LOG_HEADER_SIZE - 1)).records).toEqual([]);
  });
});

describe('withStdio', () => {
  it('puts /dev/null on the fds a process must not inherit, only while it is made', async () => {
    const before = [0, 1, 2].map((fd) => readlinkSync(`/proc/self/fd/${fd}`));
    const during = await withStdio({ stdin: false, output: false }, async () => [0, 1, 2].map((fd) => readlinkSync(`/proc/self/fd/${fd}`)));
    expect(during).toEqual(['/dev/null', '/dev/null', '/dev/null']);
    expect([0, 1, 2].map((fd) => readlinkSync(`/proc/self/fd/${fd}`))).toEqual(before);
    const stdinOnly = await withStdio({ stdin: false, output: true }, async () => [0, 1].map((fd) => readlinkSync(`/proc/self/fd/${fd}`)));
    expect(stdinOnly).toEqual(['/dev/null', before[1]]);
  });

  it('restores them when the call fails', async () => {
    const before = readlinkSync('/proc/self/fd/0');
    await expect(withStdio({ stdin: false, output: true }, async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(readlinkSync('/proc/self/fd/0')).toBe(before);
  });
});
