import { describe, expect, it } from 'vitest';
import { parseMountFlag, parseMountFlags, parseTmpfsFlag, parseVolumeFlag } from './mount-spec.js';

describe('-v/--volume', () => {
  it('reads binds, named volumes and anonymous volumes as docker does', () => {
    expect(parseVolumeFlag('/srv/data:/data')).toEqual({ type: 'bind', source: '/srv/data', target: '/data', readonly: false });
    expect(parseVolumeFlag('/srv/data/:/data/:ro,rshared')).toEqual({ type: 'bind', source: '/srv/data', target: '/data', readonly: true, propagation: 'rshared' });
    expect(parseVolumeFlag('cache:/var/cache:ro')).toEqual({ type: 'volume', name: 'cache', target: '/var/cache', readonly: true, nocopy: false });
    expect(parseVolumeFlag('cache:/c:nocopy')).toMatchObject({ type: 'volume', nocopy: true });
    expect(parseVolumeFlag('/data')).toEqual({ type: 'volume', target: '/data', readonly: false, nocopy: false });
  });
  it('refuses relative paths, bad names, bad targets and unknown options', () => {
    expect(() => parseVolumeFlag('./relative:/x')).toThrow(/^invalid --volume "\.\/relative:\/x": "\.\/relative" is neither an absolute host path nor a volume name/);
    expect(() => parseVolumeFlag('rel/dir:/x')).toThrow(/give its absolute path/);
    expect(() => parseVolumeFlag('/a:x')).toThrow(/the target x is not an absolute path/);
    expect(() => parseVolumeFlag('/a:/')).toThrow(/the target cannot be \//);
    expect(() => parseVolumeFlag('/a:/b/..')).toThrow(/the target cannot be \//);
    expect(() => parseVolumeFlag('/a:/b:rx')).toThrow(/unknown option "rx"/);
    expect(() => parseVolumeFlag('/a:/b:ro:x')).toThrow(/expected SOURCE:TARGET/);
    expect(() => parseVolumeFlag('relative')).toThrow(/not an absolute path/);
    expect(() => parseVolumeFlag(':/x')).toThrow(/expected SOURCE:TARGET/);
    expect(() => parseVolumeFlag('/a\0b:/x')).toThrow(/NUL/);
  });
});

describe('--mount', () => {
  it('reads the three types with their keys and aliases', () => {
    expect(parseMountFlag('type=bind,src=/srv,dst=/srv,readonly')).toEqual({ type: 'bind', source: '/srv', target: '/srv', readonly: true });
    expect(parseMountFlag('type=bind,source=/srv,target=/srv,bind-propagation=rslave,ro=false')).toEqual({ type: 'bind', source: '/srv', target: '/srv', readonly: false, propagation: 'rslave' });
    expect(parseMountFlag('source=v1,target=/v')).toEqual({ type: 'volume', name: 'v1', target: '/v', readonly: false, nocopy: false });
    expect(parseMountFlag('type=volume,target=/v,volume-nocopy')).toEqual({ type: 'volume', target: '/v', readonly: false, nocopy: true });
    expect(parseMountFlag('type=tmpfs,destination=/run,tmpfs-size=64m,tmpfs-mode=1777')).toEqual({ type: 'tmpfs', target: '/run', options: [`size=${64 << 20}`, 'mode=1777'] });
  });
  it('refuses unknown keys and types, and keys of another type', () => {
    expect(() => parseMountFlag('type=nfs,target=/x')).toThrow(/unknown type "nfs"/);
    expect(() => parseMountFlag('type=bind,target=/x,colour=red')).toThrow(/unknown key "colour"/);
    expect(() => parseMountFlag('type=bind,target=/x')).toThrow(/type=bind needs a source/);
    expect(() => parseMountFlag('type=bind,source=rel,target=/x')).toThrow(/the bind source rel is not an absolute path/);
    expect(() => parseMountFlag('type=tmpfs,source=/a,target=/x')).toThrow(/source does not apply to type=tmpfs/);
    expect(() => parseMountFlag('type=volume,source=../etc,target=/x')).toThrow(/is not a volume name/);
    expect(() => parseMountFlag('type=tmpfs,target=/x,tmpfs-size=lots')).toThrow(/invalid tmpfs-size "lots"/);
    expect(() => parseMountFlag('type=bind,source=/a')).toThrow(/no target path/);
  });
});

describe('--tmpfs', () => {
  it('passes mount options through, and refuses options it does not know', () => {
    expect(parseTmpfsFlag('/run')).toEqual({ type: 'tmpfs', target: '/run', options: [] });
    expect(parseTmpfsFlag('/run:rw,exec,size=64m,mode=1777')).toEqual({ type: 'tmpfs', target: '/run', options: ['rw', 'exec', 'size=64m', 'mode=1777'] });
    expect(() => parseTmpfsFlag('/run:size=64m,context=x')).toThrow(/unknown option "context=x"/);
    expect(() => parseTmpfsFlag('run')).toThrow(/not an absolute path/);
  });
});

it('refuses two mounts on one target', () => {
  expect(() => parseMountFlags({ volume: ['/a:/x'], tmpfs: ['/x/'] })).toThrow(/^duplicate mount point: \/x$/);
});
