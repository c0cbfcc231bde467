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

  it('is an IsolaError across copies of the module (a bundle carries its own), and subclasses still check their prototype', async () => {
    // A second instance of this module, as a bundle holds: a distinct class with the same name.
    const copy = (await import('./isola-error.js?copy' as string)) as typeof import('./isola-error.js');
    expect(copy.IsolaError).not.toBe(IsolaError);
    const foreign = new copy.IsolaError('EX', 'made by the copy');
    expect(foreign instanceof IsolaError).toBe(true);
    expect(isIsolaError(foreign)).toBe(true);
    expect(new IsolaError('EX', 'made here') instanceof copy.IsolaError).toBe(true);
    expect(new Error('plain') instanceof IsolaError).toBe(false);
    expect((null as unknown) instanceof IsolaError).toBe(false);
    expect({ code: 'EX', message: 'looks like one' } instanceof IsolaError).toBe(false);

    class MountError extends IsolaError {}
    expect(new MountError('EMOUNT', 'm') instanceof MountError).toBe(true);
    expect(new MountError('EMOUNT', 'm') instanceof IsolaError).toBe(true);
    expect(new IsolaError('EX', 'x') instanceof MountError).toBe(false);
    expect(foreign instanceof MountError).toBe(false);
  });
});
