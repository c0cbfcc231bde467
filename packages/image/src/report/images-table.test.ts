import { describe, expect, it } from 'vitest';
import { formatImagesTable, humanSize, imageRows, timeAgo } from './images-table.js';

const id = `sha256:${'ab'.repeat(32)}`;

describe('isola images table', () => {
  it('prints one row per tag and <none> for untagged images, docker style', () => {
    const now = Date.parse('2024-01-10T00:00:00Z');
    const rows = imageRows(
      [
        { id, digest: id, names: ['docker.io/library/busybox:latest', '127.0.0.1:5000/bb:v1'], size: 2_150_000, created: '2024-01-07T00:00:00Z', added: '' },
        { id: `sha256:${'cd'.repeat(32)}`, digest: id, names: [], size: 999, created: undefined, added: '' },
      ],
      now,
    );
    const lines = formatImagesTable(rows).split('\n');
    expect(lines[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(lines[1].split(/\s{2,}/)).toEqual(['busybox', 'latest', 'abababababab', '3 days ago', '2.15MB']);
    expect(lines[2].split(/\s{2,}/)).toEqual(['127.0.0.1:5000/bb', 'v1', 'abababababab', '3 days ago', '2.15MB']);
    expect(lines[3].split(/\s{2,}/)).toEqual(['<none>', '<none>', 'cdcdcdcdcdcd', 'N/A', '999B']);
  });

  it('formats sizes and ages like docker', () => {
    expect([humanSize(0), humanSize(4_260_000), humanSize(123_456_789), humanSize(1_500_000_000)]).toEqual(['0B', '4.26MB', '123MB', '1.50GB']);
    const now = Date.parse('2024-01-10T00:00:00Z');
    expect(timeAgo('2024-01-09T23:00:00Z', now)).toBe('About an hour ago');
    expect(timeAgo('2023-01-01T00:00:00Z', now)).toBe('12 months ago');
    expect(timeAgo('1970-01-01T00:00:00Z', now)).toBe('54 years ago');
  });
});
