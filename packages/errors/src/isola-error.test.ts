import { describe, expect, it } from 'vitest';
import { IsolaError, describeError, isIsolaError } from './isola-error.js';

describe('IsolaError', () => {
  it('keeps code, message, details and cause', () => {
    const root = new Error('EINVAL');
    const err = new IsolaError('EMOUNT', 'mount rootfs', { cause: root, details: { path: '/x' } });
    expect(err.code).toBe('EMOUNT');
    expect(err.details).toEqual({ path: '/x' });
    expect(err.cause).toBe(root);
    expect(isIsolaError(err)).toBe(true);
    expect(isIsolaError(root)).toBe(false);
  });

  it('describes the chain outermost first, without repeating a message a layer already carries', () => {
    const inner = new IsolaError('ESYS', 'mount("overlay" on "/run/x"): EINVAL');
    const outer = new IsolaError('ECREATE', 'create container "web"', { cause: inner });
    expect(describeError(outer)).toBe('create container "web": mount("overlay" on "/run/x"): EINVAL');
    const wrapped = new Error('open image: no such file', { cause: new Error('no such file') });
    expect(describeError(wrapped)).toBe('open image: no such file');
    expect(describeError('plain')).toBe('plain');
  });
});
