import { describe, expect, it } from 'vitest';
import { type ByteRun, appendRun } from './runs.js';

describe('appendRun', () => {
  it('merges a run that starts where the last one ends and keeps a gap apart', () => {
    const runs: ByteRun[] = [];
    appendRun(runs, 0, 4);
    appendRun(runs, 4, 4);
    appendRun(runs, 9, 1);
    expect(runs).toEqual([
      { offset: 0, length: 8 },
      { offset: 9, length: 1 },
    ]);
  });
});
