// Daemonless containers as users drive them: run -d, ps, logs, stop, kill, wait, rm, create/start, and
// what is reported when the monitor is killed or the host "reboots" (a record from another boot).
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { useBusyboxImage, useIsolaRoot } from '../support/cli.js';
import { itNeeds } from '../support/requirements.js';
import { useTestNetns } from '../support/netns.js';

// isola runs in a network namespace of this file's own: its default bridge is made there, not on the host.
const netns = useTestNetns();
const { root: stateRoot, isola } = useIsolaRoot('isola-containers-', netns);
useBusyboxImage();

function inspect(ref: string) {
  const r = isola('container', 'inspect', ref);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout)[0] as { Id: string; MonitorPid: number; State: Record<string, unknown>; Config: Record<string, unknown>; HostConfig: Record<string, unknown> };
}

function psLine(name: string, all = true): string | undefined {
  return isola('ps', ...(all ? ['-a'] : [])).stdout.split('\n').find((line) => line.trimEnd().endsWith(` ${name}`));
}

function alive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(50);
  }
}

const needs = itNeeds({ root: true, files: ['/bin/busybox'] });

describe('daemonless containers', () => {
  needs('run -d prints the id; ps shows it Up; logs has its output (--tail, --timestamps); the monitor is tiny', async () => {
    const run = isola('run', '-d', '--name', 'web', 'busybox', 'sh', '-c', 'echo one; echo two >&2; sleep 0.2; echo three; sleep 100');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const id = run.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(psLine('web', false)).toMatch(new RegExp(`^${id.slice(0, 12)}   busybox   "sh -c echo one; ech…"   .* ago +Up .+ web$`));
    const json = isola('ps', '--format', 'json').stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(json.find((c) => c.Names === 'web')).toMatchObject({ ID: id.slice(0, 12), Image: 'busybox', State: 'running', Ports: '' });
    expect(inspect('web').Config).toMatchObject({ AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false, OpenStdin: false });

    await until(() => isola('logs', 'web').stdout === 'one\nthree\n');
    const logs = isola('logs', 'web');
    expect(logs).toMatchObject({ status: 0, stdout: 'one\nthree\n', stderr: 'two\n' });
    expect(isola('logs', '--tail', '1', id.slice(0, 8)).stdout).toBe('three\n');
    expect(isola('logs', '--timestamps', 'web').stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z one\n\S+Z three\n$/);

    const state = inspect('web').State;
    expect(state).toMatchObject({ Status: 'running', Running: true, ExitCode: 0, OOMKilled: false, FinishedAt: '0001-01-01T00:00:00Z' });
    expect(alive(state.Pid as number)).toBe(true);
    // The monitor: the init's parent, a few pages of memory (conmon ~2 MB; a Node process ~40 MB).
    const monitor = inspect('web').MonitorPid;
    expect(readFileSync(`/proc/${state.Pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]).toBe(String(monitor));
    const rssKiB = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${monitor}/status`, 'utf8'))![1]);
    console.log(`monitor ${monitor}: VmRSS ${rssKiB} KiB`);
    expect(rssKiB).toBeLessThanOrEqual(5 * 1024);
  });

  needs('stop sends SIGTERM, then SIGKILL after -t; ps -a shows Exited (143 or 137); wait prints the code', async () => {
    // sh as PID 1 ignores SIGTERM (no handler): SIGKILL after the timeout.
    const started = Date.now();
    expect(isola('stop', '-t', '1', 'web')).toEqual({ status: 0, stdout: 'web\n', stderr: '' });
    expect(Date.now() - started).toBeLessThan(8000);
    expect(psLine('web')).toMatch(/Exited \(137\) .* ago +web$/);
    expect(psLine('web', false)).toBeUndefined();
    expect(isola('wait', 'web')).toEqual({ status: 0, stdout: '137\n', stderr: '' });
    expect(inspect('web').State).toMatchObject({ Status: 'exited', Running: false, Pid: 0, ExitCode: 137 });
    expect(isola('logs', 'web').stdout).toBe('one\nthree\n');

    // One that ends on SIGTERM itself, well before the timeout.
    isola('run', '-d', '--name', 'polite', 'busybox', 'sh', '-c', 'trap "exit 143" TERM; while true; do sleep 0.1; done');
    const t0 = Date.now();
    expect(isola('stop', '-t', '20', 'polite').status).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(psLine('polite')).toMatch(/Exited \(143\) /);

    isola('run', '-d', '--name', 'seven', 'busybox', 'sh', '-c', 'sleep 0.3; exit 7');
    expect(isola('wait', 'seven')).toEqual({ status: 0, stdout: '7\n', stderr: '' });
    expect(isola('kill', 'seven')).toMatchObject({ status: 125, stderr: 'Error: cannot kill container "seven": it is not running\n' });
    expect(isola('rm', 'web', 'polite', 'seven').status).toBe(0);
  });

  needs('kill -s delivers the signal; rm refuses a running container, rm -f removes it and leaves nothing', async () => {
    const id = isola('run', '-d', '--name', 'victim', 'busybox', 'sh', '-c', 'trap "echo got USR1; exit 5" USR1; while true; do sleep 0.1; done').stdout.trim();
    await sleep(300);
    expect(isola('kill', '-s', 'USR1', 'victim').status).toBe(0);
    expect(isola('wait', 'victim').stdout).toBe('5\n');
    expect(isola('logs', 'victim').stdout).toBe('got USR1\n');
    isola('rm', 'victim');

    const id2 = isola('run', '-d', '--name', 'busy', 'busybox', 'sleep', '100').stdout.trim();
    const { Pid: pid, } = inspect('busy').State as { Pid: number };
    const monitor = inspect('busy').MonitorPid;
    const refused = isola('rm', 'busy');
    expect(refused.status).toBe(125);
    expect(refused.stderr).toBe('Error: cannot remove container "busy": it is running: stop it first or use --force\n');
    expect(isola('rm', '-f', 'busy')).toEqual({ status: 0, stdout: 'busy\n', stderr: '' });
    expect(alive(pid)).toBe(false);
    expect(alive(monitor)).toBe(false);
    for (const gone of [id, id2]) {
      expect(existsSync(join(stateRoot, 'containers', gone))).toBe(false);
      expect(existsSync(join(stateRoot, 'runtime', gone))).toBe(false);
      expect(existsSync(join(stateRoot, 'image', 'containers', gone))).toBe(false);
      expect(existsSync(`/sys/fs/cgroup/memory/isola/${gone}`)).toBe(false);
      expect(existsSync(`/sys/fs/cgroup/pids/isola/${gone}`)).toBe(false);
    }
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(stateRoot);
    expect(existsSync(join(stateRoot, 'container-names', 'busy'))).toBe(false);
  });

  needs('a name in use is a one-line error, and the failed run leaves nothing', () => {
    isola('create', '--name', 'taken', 'busybox', 'true');
    const before = readdirSync(join(stateRoot, 'containers')).sort();
    const r = isola('run', '-d', '--name', 'taken', 'busybox', 'true');
    expect(r.status).toBe(125);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Error: the container name "\/taken" is already in use by container "[0-9a-f]{64}": remove \(or rename\) that container to reuse the name\n$/);
    expect(readdirSync(join(stateRoot, 'containers')).sort()).toEqual(before);
    expect(isola('rm', 'taken').status).toBe(0);
  });

  needs('create leaves the init waiting; start runs it; foreground run keeps the container, --rm -d removes itself', async () => {
    const id = isola('create', '--name', 'later', 'busybox', 'echo', 'started').stdout.trim();
    expect(psLine('later')).toMatch(/Created +later$/);
    expect(inspect('later').State).toMatchObject({ Status: 'created', Running: false });
    // docker create's defaults: stdout and stderr attached, no stdin, no tty, no init.
    expect(inspect('later').Config).toMatchObject({ AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false, OpenStdin: false });
    expect(inspect('later').HostConfig.Init).toBe(false);
    isola('create', '-i', '-t', '--init', '--name', 'later-it', 'busybox', 'sh');
    expect(inspect('later-it').Config).toMatchObject({ AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: true, OpenStdin: true });
    expect(inspect('later-it').HostConfig.Init).toBe(true);
    expect(isola('rm', 'later-it').status).toBe(0);
    expect(isola('start', 'later').status).toBe(0);
    expect(isola('wait', id.slice(0, 12)).stdout).toBe('0\n');
    expect(isola('logs', 'later').stdout).toBe('started\n');

    const fg = isola('run', '--name', 'fg', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 4');
    expect(fg).toEqual({ status: 4, stdout: 'out\n', stderr: 'err\n' });
    expect(psLine('fg')).toMatch(/Exited \(4\) /);
    expect(isola('logs', 'fg')).toMatchObject({ stdout: 'out\n', stderr: 'err\n' });

    const gone = isola('run', '-d', '--rm', '--name', 'ephemeral', 'busybox', 'true').stdout.trim();
    await until(() => !existsSync(join(stateRoot, 'containers', gone)));
    expect(psLine('ephemeral')).toBeUndefined();
    expect(existsSync(join(stateRoot, 'image', 'containers', gone))).toBe(false);
    expect(isola('rm', 'later', 'fg').status).toBe(0);
  });

  needs('kill -9 of the monitor: the container is reported as it is, running while it runs, never after', async () => {
    isola('run', '-d', '--name', 'orphan', 'busybox', 'sleep', '100');
    const { MonitorPid: monitor, State: state } = inspect('orphan');
    process.kill(monitor, 'SIGKILL');
    await until(() => !alive(monitor));
    expect(alive(state.Pid as number)).toBe(true);
    expect(psLine('orphan', false)).toMatch(/Up .* orphan$/);
    expect(inspect('orphan').State).toMatchObject({ Status: 'running', Running: true });
    // It goes with nobody to reap it and record how: exited, with the unknown status docker uses (255).
    process.kill(state.Pid as number, 'SIGKILL');
    await until(() => !alive(state.Pid as number));
    expect(psLine('orphan', false)).toBeUndefined();
    expect(psLine('orphan')).toMatch(/Exited \(255\) /);
    expect(inspect('orphan').State).toMatchObject({ Status: 'exited', Running: false, Pid: 0, ExitCode: 255 });
    expect(String(inspect('orphan').State.Error)).toMatch(/monitor .* ended before/);
    expect(isola('wait', 'orphan').stdout).toBe('255\n');

    // Killed after the container ended: the exit status it recorded stands.
    isola('run', '-d', '--name', 'done', 'busybox', 'sh', '-c', 'exit 9');
    await until(() => existsSync(join(stateRoot, 'containers', inspect('done').Id, 'exit')));
    expect(isola('wait', 'done').stdout).toBe('9\n');
    expect(isola('rm', 'orphan', 'done').status).toBe(0);
  });

  needs('a record from an earlier boot is stale: reported Exited (255), its runtime state cleaned', async () => {
    const id = isola('run', '-d', '--name', 'before-reboot', 'busybox', 'sleep', '100').stdout.trim();
    const { MonitorPid: monitor, State: state } = inspect(id);
    // A power cut: every process gone at once, and the next boot has another boot id.
    process.kill(monitor, 'SIGKILL');
    process.kill(state.Pid as number, 'SIGKILL');
    await until(() => !alive(state.Pid as number) && !alive(monitor));
    const statePath = join(stateRoot, 'containers', id, 'state.json');
    writeFileSync(statePath, JSON.stringify({ ...JSON.parse(readFileSync(statePath, 'utf8')), bootId: 'an-earlier-boot' }));
    expect(psLine('before-reboot')).toMatch(/Exited \(255\)/);
    expect(inspect(id).State).toMatchObject({ Status: 'exited', ExitCode: 255, Error: 'the host rebooted while the container existed' });
    expect(existsSync(join(stateRoot, 'runtime', id))).toBe(false);
    expect(existsSync(`/sys/fs/cgroup/memory/isola/${id}`)).toBe(false);
    expect(isola('rm', 'before-reboot').status).toBe(0);
    expect(readdirSync(join(stateRoot, 'containers'))).toEqual([]);
  });
});
