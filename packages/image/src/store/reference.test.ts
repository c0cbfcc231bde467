import { describe, expect, it } from 'vitest';
import { familiarName, formatReference, normalizeTag, parseReference } from './reference.js';

describe('image references', () => {
  it('normalizes like docker', () => {
    const cases: Array<[string, string]> = [
      ['busybox', 'docker.io/library/busybox:latest'],
      ['busybox:1.36', 'docker.io/library/busybox:1.36'],
      ['me/app', 'docker.io/me/app:latest'],
      ['index.docker.io/library/alpine:3', 'docker.io/library/alpine:3'],
      ['localhost/app', 'localhost/app:latest'],
      ['127.0.0.1:5000/a/b:v1', '127.0.0.1:5000/a/b:v1'],
      ['quay.io/x/y', 'quay.io/x/y:latest'],
      [`busybox@sha256:${'a'.repeat(64)}`, `docker.io/library/busybox@sha256:${'a'.repeat(64)}`],
    ];
    for (const [text, normal] of cases) expect(formatReference(parseReference(text))).toBe(normal);
    expect(familiarName('docker.io/library/busybox:latest')).toBe('busybox:latest');
    expect(familiarName('docker.io/me/app:v1')).toBe('me/app:v1');
    expect(familiarName('127.0.0.1:5000/app:v1')).toBe('127.0.0.1:5000/app:v1');
    expect(normalizeTag('busybox')).toBe('docker.io/library/busybox:latest');
  });

  it('refuses what docker refuses, saying why', () => {
    expect(() => parseReference('BusyBox')).toThrow(/lowercase/);
    expect(() => parseReference('a:b:c')).toThrow(/invalid image reference/);
    expect(() => parseReference('a@sha256:12')).toThrow(/digest/);
    expect(() => parseReference('')).toThrow(/empty/);
    expect(() => normalizeTag(`a@sha256:${'b'.repeat(64)}`)).toThrow(/tag is needed/);
  });
});
