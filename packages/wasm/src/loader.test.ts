import { describe, expect, it } from 'vitest';
import { IsolaError } from '@isola/errors';
import { loadWasm } from './loader.js';

describe('loadWasm', () => {
  it('instantiates a module once and hands out the same instance', () => {
    const module = loadWasm('byterange');
    expect(loadWasm('byterange')).toBe(module);
    expect(module.heapBase % 16).toBe(0);
  });

  it('grows memory on demand and returns a view of all of it', () => {
    const module = loadWasm('byterange');
    const size = module.reserve(0).byteLength + 100_000;
    const view = module.reserve(size);
    expect(view.byteLength).toBeGreaterThanOrEqual(module.heapBase + size);
    expect(module.reserve(size).byteLength).toBe(view.byteLength);
  });

  it('says how to build a module that is missing', () => {
    const load = () => loadWasm('no-such-module');
    expect(load).toThrow(IsolaError);
    expect(load).toThrow(
      expect.objectContaining({ code: 'EWASM_MISSING', message: expect.stringMatching(/no-such-module\.wasm is missing \(run npm run build\)$/) }),
    );
  });
});
