import { describe, expect, it } from 'vitest';
import { missing, which } from './requirements.js';

describe('host requirements', () => {
  it('finds a tool every host has and names the ones it lacks', () => {
    expect(which('sh')).toMatch(/\/sh$/);
    expect(missing({ tools: ['sh'] })).toEqual([]);
    expect(missing({ tools: ['isola-no-such-tool'], files: ['/no/such/file'] })).toEqual([
      'the isola-no-such-tool command',
      '/no/such/file',
    ]);
  });
});
