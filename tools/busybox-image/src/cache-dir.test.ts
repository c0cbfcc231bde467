import { homedir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { cacheDir, defaultImageDir } from './cache-dir.js';

describe('cacheDir', () => {
  it('prefers $ISOLA_CACHE_DIR, then $XDG_CACHE_HOME/isola, then ~/.cache/isola', () => {
    expect(cacheDir({ ISOLA_CACHE_DIR: '/srv/isola', XDG_CACHE_HOME: '/xdg' })).toBe('/srv/isola');
    expect(cacheDir({ XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/isola');
    expect(cacheDir({})).toBe(`${homedir()}/.cache/isola`);
  });

  it('ignores a relative $XDG_CACHE_HOME, as the XDG spec requires', () => {
    expect(cacheDir({ XDG_CACHE_HOME: 'relative/cache' })).toBe(`${homedir()}/.cache/isola`);
  });

  it('puts the image under images/busybox', () => {
    expect(defaultImageDir({ ISOLA_CACHE_DIR: '/c' })).toBe('/c/images/busybox');
  });
});
