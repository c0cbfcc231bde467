import { describe, expect, it } from 'vitest';
import { expandSlice, isSystemdCgroupsPath, resolveCgroupsPath } from './path.js';

describe('cgroupsPath', () => {
  it('takes OCI paths relative to the hierarchy roots, normalised', () => {
    expect(resolveCgroupsPath('/isola/web')).toBe('/isola/web');
    expect(resolveCgroupsPath('isola//web/')).toBe('/isola/web');
  });

  it('expands the systemd form slice:prefix:name like systemd does', () => {
    expect(isSystemdCgroupsPath('system.slice:docker:abc')).toBe(true);
    expect(isSystemdCgroupsPath('/a:b:c')).toBe(false);
    expect(resolveCgroupsPath('system.slice:docker:abc')).toBe('/system.slice/docker-abc.scope');
    expect(resolveCgroupsPath('kubepods-besteffort-pod12.slice:cri-containerd:f00')).toBe(
      '/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12.slice/cri-containerd-f00.scope',
    );
    expect(resolveCgroupsPath(':isola:web')).toBe('/system.slice/isola-web.scope');
    expect(resolveCgroupsPath('-.slice::web')).toBe('/web.scope');
    expect(resolveCgroupsPath('system.slice:x:machine.slice')).toBe('/machine.slice');
    expect(expandSlice('a-b-c.slice')).toBe('/a.slice/a-b.slice/a-b-c.slice');
  });

  it('refuses paths that would leave the hierarchy, the root itself, and bad slices', () => {
    expect(() => resolveCgroupsPath('/a/../../etc')).toThrow('linux.cgroupsPath: "/a/../../etc" must not contain ".."');
    expect(() => resolveCgroupsPath('/')).toThrow(/root cgroup/);
    expect(() => resolveCgroupsPath('')).toThrow(/empty/);
    expect(() => resolveCgroupsPath('a--b.slice:x:y')).toThrow(/not a valid systemd slice/);
    expect(() => resolveCgroupsPath('system:x:y')).toThrow(/does not end in ".slice"/);
  });
});
