// isola-runtime as containerd and people call it: the built binary, runc's flags and output.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';

const bin = fileURLToPath(new URL('../../bin/isola-runtime.cjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'isola-rt-cli-'));
const root = join(work, 'root');
const bundle = join(work, 'bundle');
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * Runs isola-runtime with stdout and stderr in files, as containerd does: a created container inherits
 * them and keeps them open, so pipes would never reach end-of-file.
 */
function runtime(...args: string[]) {
  return runtimeWith({}, ...args);
}

/** runtime() with more fds from 3 up (for --preserve-fds), or text on stdin. */
function runtimeWith(options: { extraFds?: number[]; input?: string }, ...args: string[]) {
  const out = join(work, 'stdout');
  const err = join(work, 'stderr');
  const fds = [openSync(out, 'w'), openSync(err, 'w')];
  try {
    const stdio = [options.input === undefined ? 'ignore' : 'pipe', fds[0]!, fds[1]!, ...(options.extraFds ?? [])] as const;
    const r = spawnSync(process.execPath, [bin, '--root', root, ...args], { cwd: bundle, stdio: [...stdio], input: options.input, timeout: 30_000 });
    return { status: r.status, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

const needs = itNeeds({ root: true, files: ['/bin/busybox'] });

describe('isola-runtime', () => {
  needs('writes a runc-style spec, then creates, starts, reports, kills and deletes a container', () => {
    mkdirSync(join(bundle, 'rootfs/bin'), { recursive: true });
    copyFileSync('/bin/busybox', join(bundle, 'rootfs/bin/busybox'));
    execFileSync('chmod', ['755', join(bundle, 'rootfs/bin/busybox')]);
    for (const applet of ['sh', 'sleep', 'true', 'hostname', 'cat', 'tr', 'id']) symlinkSync('busybox', join(bundle, 'rootfs/bin', applet));
    expect(runtime('spec').status).toBe(0);
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    expect(spec.process.args).toEqual(['sh']);
    expect(runtime('spec').stderr).toMatch(/config.json already exists/);
    spec.process.terminal = false;
    spec.process.args = ['sleep', '60'];
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));

    const pidFile = join(work, 'pid');
    expect(runtime('create', '--bundle', bundle, '--pid-file', pidFile, 'c1')).toMatchObject({ status: 0, stderr: '' });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(JSON.parse(runtime('state', 'c1').stdout)).toMatchObject({ id: 'c1', status: 'created', pid, bundle });
    expect(runtime('start', 'c1').status).toBe(0);
    expect(JSON.parse(runtime('state', 'c1').stdout).status).toBe('running');
    expect(runtime('list').stdout).toMatch(/^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER\nc1\s+\d+\s+running\s/);
    expect(JSON.parse(runtime('ps', '--format', 'json', 'c1').stdout)).toEqual([pid]);
    expect(runtime('pause', 'c1').status).toBe(0);
    expect(JSON.parse(runtime('state', 'c1').stdout).status).toBe('paused');
    expect(runtime('resume', 'c1').status).toBe(0);
    const stats = JSON.parse(runtime('events', '--stats', 'c1').stdout);
    expect(stats).toMatchObject({ type: 'stats', id: 'c1' });
    expect(stats.data.memory.usage.usage).toBeGreaterThan(0);
    expect(runtime('delete', 'c1')).toMatchObject({ status: 1, stderr: 'isola-runtime: cannot delete container "c1" that is not stopped: running\n' });
    expect(runtime('kill', 'c1', 'KILL').status).toBe(0);
    for (let i = 0; i < 100 && JSON.parse(runtime('state', 'c1').stdout).status !== 'stopped'; i++) execFileSync('sleep', ['0.05']);
    expect(JSON.parse(runtime('state', 'c1').stdout)).toMatchObject({ status: 'stopped', pid: 0 });
    expect(runtime('delete', 'c1').status).toBe(0);
    expect(existsSync(join(root, 'c1'))).toBe(false);
    expect(runtime('delete', '--force', 'c1').status).toBe(0);
  });

  needs('runs a container in the foreground and returns its exit status', () => {
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    spec.process.args = ['sh', '-c', 'echo out; echo err >&2; exit 3'];
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    expect(runtime('run', 'r1')).toEqual({ status: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(existsSync(join(root, 'r1'))).toBe(false);
  });

  needs('answers bad input with one line and writes runc-style JSON logs', () => {
    const log = join(work, 'log.json');
    const missing = spawnSync(process.execPath, [bin, '--root', root, '--log', log, '--log-format', 'json', 'state', 'nope'], { encoding: 'utf8' });
    expect(missing).toMatchObject({ status: 1, stderr: 'isola-runtime: container "nope" does not exist\n' });
    expect(JSON.parse(readFileSync(log, 'utf8').trim())).toMatchObject({ level: 'error', msg: 'container "nope" does not exist' });
    expect(runtime('create', '--no-pivot', 'x')).toMatchObject({ status: 1, stderr: 'isola-runtime: isola-runtime create: --no-pivot is not supported by isola-runtime\n' });
    expect(runtime('create', '--frobnicate', 'x').stderr).toBe('isola-runtime: isola-runtime create: unknown flag --frobnicate\n');
    expect(runtime('bogus').stderr).toMatch(/unknown command "bogus"/);
    expect(runtime('create', 'bad/id').stderr).toMatch(/invalid container id "bad\/id"/);
    expect(runtime('--version').stdout).toMatch(/^isola-runtime version \d/);
    expect(runtime('run', '--preserve-fds', '500', 'x').stderr).toMatch(/^isola-runtime: --preserve-fds 500: fd \d+ is not open in isola-runtime\n$/);
    expect(runtime('run', '--preserve-fds', '5000', 'x').stderr).toBe('isola-runtime: --preserve-fds 5000: at most 997 fds can be preserved\n');
    expect(runtime('run', '--preserve-fds', 'two', 'x').stderr).toBe('isola-runtime: --preserve-fds "two": expected a number of fds\n');
    expect(existsSync(join(root, 'x'))).toBe(false);
  });

  needs('passes the fds --preserve-fds names, at the same numbers, and no others', () => {
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    spec.process.args = ['sh', '-c', 'echo three >&3; echo four >&4; ls /proc/self/fd | tr "\\n" " "'];
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    const files = [join(work, 'fd3'), join(work, 'fd4')];
    const extra = files.map((f) => openSync(f, 'w'));
    try {
      // ls's own directory fd takes the lowest free number: 5 with two preserved, 3 with none.
      expect(runtimeWith({ extraFds: extra }, 'run', '--preserve-fds', '2', 'p1')).toMatchObject({ status: 0, stdout: '0 1 2 3 4 5 ' });
      expect(files.map((f) => readFileSync(f, 'utf8'))).toEqual(['three\n', 'four\n']);
      const without = runtimeWith({ extraFds: extra }, 'run', 'p2');
      expect(without.stdout).toBe('0 1 2 3 ');
      expect(without.stderr).toMatch(/Bad file descriptor/);
    } finally {
      for (const fd of extra) closeSync(fd);
    }
  });
});

describe('isola-runtime exec', () => {
  needs('runs a process inside a running container, in its namespaces and cgroup', () => {
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    spec.process.args = ['sleep', '60'];
    spec.hostname = 'exec-host';
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    expect(runtime('run', '-d', 'e1').status).toBe(0);
    try {
      const r = runtime('exec', 'e1', 'sh', '-c', 'hostname; echo $$; cat /proc/1/cmdline | tr "\\0" " "');
      expect(r.status).toBe(0);
      const [hostname, pid, init] = r.stdout.trim().split('\n');
      expect(hostname).toBe('exec-host');
      expect(Number(pid)).toBeGreaterThan(1);
      expect(init!.trim()).toBe('sleep 60');
      expect(runtime('exec', 'e1', 'sh', '-c', 'exit 4').status).toBe(4);
      const processFile = join(work, 'process.json');
      writeFileSync(processFile, JSON.stringify({ ...spec.process, args: ['id', '-u'], user: { uid: 123, gid: 456 } }));
      expect(runtime('exec', '--process', processFile, 'e1').stdout).toBe('123\n');
      expect(runtime('exec', 'e1', '/no/such').stderr).toMatch(/executable file not found/);
      const fd3 = openSync(join(work, 'exec-fd3'), 'w');
      try {
        expect(runtimeWith({ extraFds: [fd3] }, 'exec', '--preserve-fds', '1', 'e1', 'sh', '-c', 'echo exec-three >&3').status).toBe(0);
      } finally {
        closeSync(fd3);
      }
      expect(readFileSync(join(work, 'exec-fd3'), 'utf8')).toBe('exec-three\n');
    } finally {
      runtime('delete', '--force', 'e1');
    }
    expect(existsSync(join(root, 'e1'))).toBe(false);
  });
});

describe('isola-runtime update', () => {
  needs('changes a running container\'s limits from flags and from --resources JSON on stdin', () => {
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    spec.process.args = ['sleep', '60'];
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    expect(runtime('run', '-d', 'u1').status).toBe(0);
    const v1 = existsSync('/sys/fs/cgroup/memory/isola/u1');
    const file = (controller: string, v1Name: string, v2Name: string) =>
      readFileSync(v1 ? `/sys/fs/cgroup/${controller}/isola/u1/${v1Name}` : `/sys/fs/cgroup/isola/u1/${v2Name}`, 'utf8').trim();
    try {
      expect(runtime('update', '--memory', '64m', '--pids-limit', '50', 'u1')).toMatchObject({ status: 0, stderr: '' });
      expect(file('memory', 'memory.limit_in_bytes', 'memory.max')).toBe(String(64 * 1024 * 1024));
      expect(file('pids', 'pids.max', 'pids.max')).toBe('50');
      expect(runtimeWith({ input: '{"pids":{"limit":77}}' }, 'update', '--resources', '-', 'u1').status).toBe(0);
      expect(file('pids', 'pids.max', 'pids.max')).toBe('77');
      expect(file('memory', 'memory.limit_in_bytes', 'memory.max')).toBe(String(64 * 1024 * 1024));
      expect(runtimeWith({ input: '{"pids":' }, 'update', '--resources', '-', 'u1').stderr).toMatch(/^isola-runtime: --resources -: not JSON/);
      expect(runtime('update', '--memory', 'lots', 'u1').stderr).toBe('isola-runtime: --memory "lots": expected bytes, e.g. 536870912 or 512m\n');
    } finally {
      runtime('delete', '--force', 'u1');
    }
  });
});
