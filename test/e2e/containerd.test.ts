// isola-runtime as containerd's runtime: `ctr run --runc-binary`, the way Kubernetes nodes drive runc.
// containerd runs from a private config (sockets, root and state in a temp dir) and is stopped by pid.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { runCommand, runtimeBin as runtime, useWorkDir } from '../support/cli.js';
import { itNeeds } from '../support/requirements.js';

const needs = itNeeds({ root: true, tools: ['containerd', 'ctr', 'tar'], files: ['/bin/busybox'] });
// Removed (after what containerd left mounted in it is unmounted) once containerd is stopped below.
const work = useWorkDir('isola-containerd-');
const socket = join(work, 'containerd.sock');
let containerd: ChildProcess | undefined;

const ctr = (...args: string[]) => runCommand('ctr', ['--address', socket, ...args]);

beforeAll(async () => {
  if (!existsSync('/usr/bin/containerd') || process.getuid?.() !== 0) return;
  writeFileSync(
    join(work, 'config.toml'),
    `version = 2\nroot = "${work}/root"\nstate = "${work}/state"\n[grpc]\n  address = "${socket}"\n[ttrpc]\n  address = "${work}/ttrpc.sock"\n` +
      `[debug]\n  address = "${work}/debug.sock"\n[plugins."io.containerd.internal.v1.opt"]\n  path = "${work}/opt"\n`,
  );
  containerd = spawn('containerd', ['--config', join(work, 'config.toml')], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
  const { buildBusyboxImage } = await import('@isola/busybox-image');
  const image = await buildBusyboxImage({ outDir: join(work, 'busybox') });
  execFileSync('tar', ['-C', image.path, '-cf', join(work, 'busybox.tar'), '.']);
  const imported = ctr('images', 'import', '--base-name', 'docker.io/library/busybox', join(work, 'busybox.tar'));
  if (imported.status !== 0) throw new Error(`ctr images import: ${imported.stderr}`);
}, 120_000);

afterAll(async () => {
  ctr('task', 'kill', '-s', 'KILL', 'isola-d1');
  ctr('task', 'rm', '-f', 'isola-d1');
  ctr('container', 'rm', 'isola-d1');
  if (containerd?.pid) {
    process.kill(containerd.pid, 'SIGTERM');
    await new Promise((r) => containerd!.once('exit', r));
  }
});

describe('containerd with isola-runtime', () => {
  needs('runs a container to completion and passes its output and exit status through', () => {
    const r = ctr('run', '--rm', '--runc-binary', runtime, 'docker.io/library/busybox:latest', 'isola-r1', 'sh', '-c', 'echo hello from containerd; echo pid $$; exit 0');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hello from containerd\npid 1\n');
    expect(ctr('run', '--rm', '--runc-binary', runtime, 'docker.io/library/busybox:latest', 'isola-r2', 'sh', '-c', 'exit 3').status).toBe(3);
  });

  needs('runs a detached task, execs into it, lists its processes, kills and removes it', () => {
    expect(ctr('run', '-d', '--runc-binary', runtime, 'docker.io/library/busybox:latest', 'isola-d1', 'sleep', '60').status).toBe(0);
    expect(ctr('task', 'ls').stdout).toMatch(/isola-d1\s+\d+\s+RUNNING/);
    const exec = ctr('task', 'exec', '--exec-id', 'e1', 'isola-d1', 'sh', '-c', 'echo exec $(cat /proc/1/cmdline | tr "\\0" " ")');
    expect(exec.stdout).toBe('exec sleep 60\n');
    expect(ctr('task', 'ps', 'isola-d1').stdout).toMatch(/^PID\s+INFO\n\d+/);
    expect(ctr('task', 'pause', 'isola-d1').status).toBe(0);
    expect(ctr('task', 'ls').stdout).toMatch(/isola-d1\s+\d+\s+PAUSED/);
    expect(ctr('task', 'resume', 'isola-d1').status).toBe(0);
    expect(ctr('task', 'ls').stdout).toMatch(/isola-d1\s+\d+\s+RUNNING/);
    expect(ctr('task', 'kill', '-s', 'KILL', 'isola-d1').status).toBe(0);
    for (let i = 0; i < 100 && !/STOPPED/.test(ctr('task', 'ls').stdout); i++) execFileSync('sleep', ['0.05']);
    expect(ctr('task', 'ls').stdout).toMatch(/isola-d1\s+\d+\s+STOPPED/);
    expect(ctr('task', 'rm', 'isola-d1').status).toBe(0);
    expect(ctr('container', 'rm', 'isola-d1').status).toBe(0);
    expect(ctr('task', 'ls').stdout).not.toMatch(/isola-d1/);
  });
});
