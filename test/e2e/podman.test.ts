// isola-runtime as podman's --runtime: run, run -d, exec, top, stop, rm. podman keeps its storage in a
// temp dir; the ulimit flags are what podman needs on hosts without CAP_SYS_RESOURCE (shared/MACHINE.md).
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { runCommand, runtimeBin as runtime, useWorkDir } from '../support/cli.js';
import { itNeeds } from '../support/requirements.js';

const needs = itNeeds({ root: true, tools: ['podman', 'tar'], files: ['/bin/busybox'] });
const work = useWorkDir('isola-podman-');
const ULIMITS = ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=32768:32768'];
const IMAGE = 'localhost/isola-busybox:latest';

function podman(...args: string[]) {
  return podmanWith([], ...args);
}

/** podman with more open fds from 3 up, for --preserve-fds. */
function podmanWith(extraFds: number[], ...args: string[]) {
  const global = ['--root', join(work, 'root'), '--runroot', join(work, 'run'), '--cgroup-manager=cgroupfs', '--events-backend=file', '--runtime', runtime];
  return runCommand('podman', [...global, ...args], { stdio: ['ignore', 'pipe', 'pipe', ...extraFds] });
}

/** The memory limit of the cgroup process `pid` is in, as the host sees it (v1 or v2). */
function memoryLimit(pid: number): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n').map((l) => l.split(':'));
  const v1 = lines.find(([, controllers]) => controllers!.split(',').includes('memory'));
  const path = v1 ? `/sys/fs/cgroup/memory${v1[2]}/memory.limit_in_bytes` : `/sys/fs/cgroup${lines.find(([id]) => id === '0')![2]}/memory.max`;
  return readFileSync(path, 'utf8').trim();
}

beforeAll(async () => {
  if (spawnSync('podman', ['--version']).status !== 0 || process.getuid?.() !== 0) return;
  const { buildBusyboxImage } = await import('@isola/busybox-image');
  const image = await buildBusyboxImage({ outDir: join(work, 'busybox') });
  execFileSync('tar', ['-C', image.path, '-cf', join(work, 'busybox.tar'), '.']);
  const loaded = podman('load', '-i', join(work, 'busybox.tar'));
  if (loaded.status !== 0) throw new Error(`podman load: ${loaded.stderr}`);
  const id = /Loaded image: (\S+)/.exec(loaded.stdout)?.[1];
  podman('tag', id!, IMAGE);
}, 120_000);

afterAll(() => {
  podman('rm', '-af');
  podman('system', 'reset', '-f');
});

describe('podman with isola-runtime', () => {
  needs('runs a container and passes its output and exit status through', () => {
    const r = podman('run', '--rm', '--network=none', ...ULIMITS, IMAGE, 'sh', '-c', 'echo hello from podman; echo pid $$');
    expect(r.stdout).toBe('hello from podman\npid 1\n');
    expect(r.status).toBe(0);
    expect(podman('run', '--rm', '--network=none', ...ULIMITS, IMAGE, 'sh', '-c', 'exit 5').status).toBe(5);
  });

  needs('runs a detached container, execs into it, shows top, stops and removes it', () => {
    expect(podman('run', '-d', '--name', 'isola-p1', '--network=none', ...ULIMITS, IMAGE, 'sleep', '60').status).toBe(0);
    expect(podman('ps', '--format', '{{.Names}} {{.Status}}').stdout).toMatch(/^isola-p1 Up/m);
    expect(podman('exec', 'isola-p1', 'sh', '-c', 'echo exec $(cat /proc/1/cmdline | tr "\\0" " ")').stdout).toBe('exec sleep 60\n');
    expect(podman('top', 'isola-p1').stdout).toMatch(/sleep 60/);
    // podman update hands isola-runtime `update --resources FILE`.
    expect(podman('update', '--memory', '64m', 'isola-p1').status).toBe(0);
    expect(memoryLimit(Number(podman('inspect', '--format', '{{.State.Pid}}', 'isola-p1').stdout))).toBe(String(64 * 1024 * 1024));
    expect(podman('pause', 'isola-p1').status).toBe(0);
    expect(podman('ps', '-a', '--format', '{{.Names}} {{.Status}}').stdout).toMatch(/^isola-p1 Paused/m);
    expect(podman('unpause', 'isola-p1').status).toBe(0);
    expect(podman('stop', '-t', '1', 'isola-p1').status).toBe(0);
    expect(podman('ps', '-a', '--format', '{{.Names}} {{.Status}}').stdout).toMatch(/^isola-p1 Exited \(137\)/m);
    expect(podman('rm', 'isola-p1').status).toBe(0);
    expect(podman('ps', '-a', '--format', '{{.Names}}').stdout).not.toMatch(/isola-p1/);
  });
});

describe('podman --preserve-fds with isola-runtime', () => {
  needs('passes an open fd into run and exec', () => {
    const file = join(work, 'fd3');
    const fd = openSync(file, 'w');
    try {
      expect(podmanWith([fd], 'run', '--rm', '--preserve-fds', '1', '--network=none', ...ULIMITS, IMAGE, 'sh', '-c', 'echo via fd 3 >&3').status).toBe(0);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(file, 'utf8')).toBe('via fd 3\n');
  });
});
