// `-v`, `--mount` and `--tmpfs` as users type them, `isola volume ...`, and bad or malicious mount
// specifications: one line, non-zero exit, and nothing left behind (record, rootfs, mount, cgroup, volume).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect } from 'vitest';
import { list, useBusyboxImage, useIsolaRoot } from '../support/cli.js';
import { itNeeds } from '../support/requirements.js';
import { useTestNetns } from '../support/netns.js';

// isola runs in a network namespace of this file's own: its default bridge is made there, not on the host.
const netns = useTestNetns();
const { work, root: stateRoot, isola } = useIsolaRoot('isola-volumes-', netns);
const host = join(work, 'host');

/** Everything a container could leave behind. */
function leftovers() {
  return {
    containers: list(join(stateRoot, 'containers')),
    rootfs: list(join(stateRoot, 'image', 'containers')),
    volumes: list(join(stateRoot, 'volumes')),
    cgroups: list('/sys/fs/cgroup/memory/isola').filter((d) => /^[0-9a-f]{64}$/.test(d)).filter((d) => list(join(stateRoot, 'containers')).includes(d)),
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(work)),
  };
}

const needs = itNeeds({ root: true, files: ['/bin/busybox'] });

beforeAll(() => {
  mkdirSync(host, { recursive: true });
  writeFileSync(join(host, 'greeting'), 'hello from the host\n');
});
useBusyboxImage();

describe('bind mounts and tmpfs', () => {
  needs('-v HOST:DST binds read-write, :ro read-only; --mount type=bind and --tmpfs work alike', () => {
    const rw = isola('run', '--rm', '-v', `${host}:/mnt/host`, 'busybox', 'sh', '-c', 'cat /mnt/host/greeting; echo written > /mnt/host/out');
    expect(rw).toEqual({ status: 0, stdout: 'hello from the host\n', stderr: '' });
    expect(readFileSync(join(host, 'out'), 'utf8')).toBe('written\n');

    const ro = isola('run', '--rm', '-v', `${host}:/mnt/host:ro`, 'busybox', 'sh', '-c', 'cat /mnt/host/greeting; touch /mnt/host/nope');
    expect(ro.stdout).toBe('hello from the host\n');
    expect(ro.stderr).toMatch(/Read-only file system/);
    expect(ro.status).not.toBe(0);
    expect(existsSync(join(host, 'nope'))).toBe(false);

    // A single file, and --mount's readonly.
    const file = isola('run', '--rm', '--mount', `type=bind,source=${join(host, 'greeting')},target=/etc/motd,readonly`, 'busybox', 'sh', '-c', 'cat /etc/motd; echo x >> /etc/motd');
    expect(file.stdout).toBe('hello from the host\n');
    expect(file.status).not.toBe(0);

    const tmpfs = isola('run', '--rm', '--tmpfs', '/scratch:size=1m,mode=700', '--mount', 'type=tmpfs,target=/other,tmpfs-size=2m', 'busybox', 'sh', '-c',
      'grep -E " /(scratch|other) " /proc/mounts; stat -c %a /scratch; dd if=/dev/zero of=/scratch/big bs=1k count=2048 2>/dev/null || echo full');
    expect(tmpfs.stdout).toMatch(/^tmpfs \/scratch tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=700 0 0$/m);
    expect(tmpfs.stdout).toMatch(/^tmpfs \/other tmpfs rw,nosuid,nodev,noexec,relatime,size=2048k 0 0$/m);
    expect(tmpfs.stdout).toMatch(/^700\nfull\n$/m);
  }, 120_000);

  needs('runs a program that only a bind mount provides, by path and through PATH', () => {
    const tools = mkdtempSync(join(work, 'tools-'));
    writeFileSync(join(tools, 'hello-tool'), '#!/bin/sh\necho "tool from the volume: $1"\n', { mode: 0o755 });
    expect(isola('run', '--rm', '-v', `${tools}:/opt/tools:ro`, 'busybox', '/opt/tools/hello-tool', 'by path')).toMatchObject({ status: 0, stdout: 'tool from the volume: by path\n' });
    expect(isola('run', '--rm', '-v', `${tools}:/opt/tools:ro`, '-e', 'PATH=/opt/tools:/bin', 'busybox', 'hello-tool', 'on PATH')).toMatchObject({ status: 0, stdout: 'tool from the volume: on PATH\n' });
    expect(isola('run', '--rm', '-v', `${tools}:/opt/tools:ro`, 'busybox', '/opt/tools/missing')).toMatchObject({ status: 125, stderr: expect.stringMatching(/^Error: exec: "\/opt\/tools\/missing": executable file not found/) });
  });

  needs('keeps a target with .. inside the container', () => {
    const r = isola('run', '--rm', '-v', `${host}:/../../../escape`, 'busybox', 'cat', '/escape/greeting');
    expect(r).toEqual({ status: 0, stdout: 'hello from the host\n', stderr: '' });
    expect(existsSync('/escape')).toBe(false);
  }, 120_000);
});

describe('named volumes', () => {
  needs('are made on first use, filled from the image, shared and kept; volume ls/inspect/rm/prune', () => {
    // First use: the image's /etc is copied in, and what the container writes stays.
    const first = isola('run', '--name', 'writer', '-v', 'conf:/etc', 'busybox', 'sh', '-c', 'cat /etc/passwd | head -1; echo 42 > /etc/answer');
    expect(first).toEqual({ status: 0, stdout: 'root:x:0:0:root:/root:/bin/sh\n', stderr: '' });
    const [info] = JSON.parse(isola('volume', 'inspect', 'conf').stdout);
    expect(info).toEqual({ CreatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), Driver: 'local', Labels: {}, Mountpoint: join(stateRoot, 'volumes', 'conf', '_data'), Name: 'conf', Options: {}, Scope: 'local' });
    expect(readFileSync(join(info.Mountpoint, 'answer'), 'utf8')).toBe('42\n');
    // Another container sees it, read-only when asked.
    expect(isola('run', '--rm', '-v', 'conf:/data:ro', 'busybox', 'cat', '/data/answer').stdout).toBe('42\n');
    expect(isola('run', '--rm', '--mount', 'source=conf,target=/data,readonly', 'busybox', 'touch', '/data/x').status).not.toBe(0);
    const [writer] = JSON.parse(isola('inspect', 'writer').stdout);
    expect(writer.Mounts).toEqual([{ Type: 'volume', Name: 'conf', Driver: 'local', Source: info.Mountpoint, Destination: '/etc', Mode: '', RW: true, Propagation: '' }]);
    expect(writer.HostConfig.Binds).toEqual(['conf:/etc']);

    // In use by a container (even an exited one): refused, and left alone.
    const busy = isola('volume', 'rm', 'conf');
    expect(busy.status).toBe(125);
    expect(busy.stderr).toMatch(/^Error: volume conf is in use by container [0-9a-f]{12}: remove the container first\n$/);
    expect(existsSync(info.Mountpoint)).toBe(true);

    expect(isola('volume', 'create', 'empty').stdout).toBe('empty\n');
    expect(isola('volume', 'create', 'empty').status).toBe(0);
    expect(isola('volume', 'ls').stdout).toBe('DRIVER    VOLUME NAME\nlocal     conf\nlocal     empty\n');
    expect(isola('volume', 'ls', '-q').stdout).toBe('conf\nempty\n');
    expect(isola('rm', 'writer').status).toBe(0);
    expect(isola('volume', 'rm', 'conf', 'empty')).toEqual({ status: 0, stdout: 'conf\nempty\n', stderr: '' });
    expect(isola('volume', 'rm', 'conf').stderr).toBe('Error: no such volume: conf\n');
    expect(isola('volume', 'rm', '-f', 'conf').status).toBe(0);
    expect(list(join(stateRoot, 'volumes'))).toEqual([]);
  }, 120_000);

  needs('nocopy leaves a new volume empty; anonymous volumes go with --rm, and prune takes the unused ones', () => {
    expect(isola('run', '--rm', '-v', 'bare:/etc:nocopy', 'busybox', 'ls', '-A', '/etc').stdout).toBe('');
    expect(isola('run', '--rm', '-v', '/data', 'busybox', 'sh', '-c', 'echo hi > /data/f').status).toBe(0);
    expect(isola('volume', 'ls', '-q').stdout).toBe('bare\n');
    expect(isola('run', '--name', 'anon', '-v', '/data', 'busybox', 'true').status).toBe(0);
    const anonymous = isola('volume', 'ls', '-q').stdout.split('\n').find((n) => /^[0-9a-f]{64}$/.test(n))!;
    expect(anonymous).toBeDefined();
    expect(isola('volume', 'prune').stdout).toBe(''); // still used by "anon"
    expect(isola('rm', 'anon').status).toBe(0);
    expect(isola('volume', 'prune').stdout).toBe(`Deleted Volumes:\n${anonymous}\n`);
    expect(isola('volume', 'prune', '-a').stdout).toBe('Deleted Volumes:\nbare\n');
    // rm -v takes a container's anonymous volumes with it; named ones stay.
    expect(isola('run', '--name', 'both', '-v', '/anon', '-v', 'named:/named', 'busybox', 'true').status).toBe(0);
    expect(isola('volume', 'ls', '-q').stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(isola('rm', '-v', 'both').status).toBe(0);
    expect(isola('volume', 'ls', '-q').stdout).toBe('named\n');
    expect(isola('volume', 'rm', 'named').status).toBe(0);
  }, 120_000);
});

describe('bad mount specifications', () => {
  needs('fail with one line and leave nothing behind', () => {
    const before = leftovers();
    const cases: Array<[string[], RegExp]> = [
      [['-v', join(work, 'missing') + ':/x'], /^Error: bind source path does not exist: .*\/missing\n$/],
      [['--mount', `type=bind,source=${join(work, 'missing')},target=/x`], /^Error: bind source path does not exist: /],
      [['-v', './relative:/x'], /^Error: invalid --volume "\.\/relative:\/x": "\.\/relative" is neither an absolute host path nor a volume name/],
      [['-v', 'relative/dir:/x'], /give its absolute path\n$/],
      [['-v', `${host}:relative`], /the target relative is not an absolute path\n$/],
      [['-v', `${host}:/`], /the target cannot be \/\n$/],
      [['-v', `${host}:/x:rx`], /unknown option "rx"/],
      [['--mount', 'type=volume,source=../../etc,target=/x'], /is not a volume name/],
      [['--mount', 'type=nfs,target=/x'], /unknown type "nfs"/],
      [['--tmpfs', '/x:size=1m,context=evil'], /unknown option "context=evil"/],
      [['-v', 'newvol:/a', '-v', `${join(work, 'missing')}:/b`], /bind source path does not exist/],
      [['-v', `${host}:/x`, '--tmpfs', '/x'], /^Error: duplicate mount point: \/x\n$/],
    ];
    for (const [flags, message] of cases) {
      const r = isola('run', '--rm', ...flags, 'busybox', 'true');
      expect({ flags, status: r.status, stdout: r.stdout }).toEqual({ flags, status: 125, stdout: '' });
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
    expect(leftovers()).toEqual(before);
  }, 120_000);
});
