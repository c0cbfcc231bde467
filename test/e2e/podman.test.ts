// isola-runtime as podman's --runtime: run, run -d, exec, top, stop, rm. podman keeps its storage in a
// temp dir; the ulimit flags are what podman needs on hosts without CAP_SYS_RESOURCE (shared/MACHINE.md).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { itNeeds } from '../support/requirements.js';

const runtime = fileURLToPath(new URL('../../packages/container/bin/isola-runtime.cjs', import.meta.url));
const needs = itNeeds({ root: true, tools: ['podman', 'tar'], files: ['/bin/busybox'] });
const work = mkdtempSync(join(tmpdir(), 'isola-podman-'));
const ULIMITS = ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=32768:32768'];
const IMAGE = 'localhost/isola-busybox:latest';

function podman(...args: string[]) {
  const global = ['--root', join(work, 'root'), '--runroot', join(work, 'run'), '--cgroup-manager=cgroupfs', '--events-backend=file', '--runtime', runtime];
  const r = spawnSync('podman', [...global, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
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
  rmSync(work, { recursive: true, force: true });
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
    expect(podman('stop', '-t', '1', 'isola-p1').status).toBe(0);
    expect(podman('ps', '-a', '--format', '{{.Names}} {{.Status}}').stdout).toMatch(/^isola-p1 Exited \(137\)/m);
    expect(podman('rm', 'isola-p1').status).toBe(0);
    expect(podman('ps', '-a', '--format', '{{.Names}}').stdout).not.toMatch(/isola-p1/);
  });
});
