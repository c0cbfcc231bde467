// The six OCI hooks against the real kernel, with real hook scripts that record where they ran (their
// mount namespace, hostname and root) and what they read on stdin.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { createCgroup } from '../cgroups/index.js';
import { defaultSpec } from '../spec/default.js';
import type { Hook, Spec } from '../spec/types.js';
import { isAlive } from '@isola/sys';
import { createContainer } from './create.js';
import { deleteContainer } from './delete.js';
import { startContainer } from './start.js';
import { waitForExit } from './wait.js';

const work = mkdtempSync(join(tmpdir(), 'isola-hooks-'));
const root = join(work, 'state');
let counter = 0;
const created: string[] = [];

afterEach(async () => {
  for (const id of created.splice(0)) await deleteContainer(id, { root, force: true }).catch(() => {});
});
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await createCgroup('/isola-hooks').destroy().catch(() => {});
});

/** A busybox bundle whose /log is a bind mount of a host directory the hooks also write to. */
function bundle(hooks: (paths: { rootfs: string; log: string }) => Spec['hooks']) {
  const dir = join(work, `bundle-${++counter}`);
  const rootfs = join(dir, 'rootfs');
  const log = join(dir, 'log');
  for (const d of ['bin', 'proc', 'sys', 'dev', 'log']) mkdirSync(join(rootfs, d), { recursive: true });
  mkdirSync(log);
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  execFileSync('chmod', ['755', join(rootfs, 'bin/busybox')]);
  for (const applet of ['sh', 'cat', 'hostname', 'readlink', 'echo', 'sleep', 'test', 'ls']) symlinkSync('busybox', join(rootfs, 'bin', applet));
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.process!.env = ['PATH=/bin'];
  spec.process!.args = ['sh', '-c', 'readlink /proc/self/ns/mnt > /log/container'];
  spec.hostname = 'hooked';
  spec.mounts!.push({ destination: '/log', type: 'bind', source: log, options: ['bind'] });
  spec.linux!.cgroupsPath = `/isola-hooks/${process.pid}-${counter}`;
  spec.hooks = hooks({ rootfs, log });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
  const id = `h${process.pid}-${counter}`;
  created.push(id);
  return { dir, id, rootfs, log };
}

/** A hook that appends "<where> <mnt ns> <hostname> <stdin>" to `file` with the given shell. */
const recorder = (shell: string, file: string, where: string, extra = ''): Hook => ({
  path: shell,
  args: ['sh', '-c', `echo "${where} $(readlink /proc/self/ns/mnt) $(hostname) ${extra}$(cat)" >> ${file}`],
});

function records(file: string): Record<string, { ns: string; hostname: string; rest: string }> {
  const out: Record<string, { ns: string; hostname: string; rest: string }> = {};
  for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
    const [where, ns, hostname, ...rest] = line.split(' ');
    out[where!] = { ns: ns!, hostname: hostname!, rest: rest.join(' ') };
  }
  return out;
}

const needs = itNeeds({ root: true, files: ['/bin/busybox', '/bin/sh'] });

describe('hooks', () => {
  needs('runs createRuntime and poststart in the runtime namespace, createContainer and startContainer in the container\'s', async () => {
    const b = bundle(({ rootfs, log }) => ({
      createRuntime: [recorder('/bin/sh', `${log}/hooks`, 'createRuntime')],
      // Before pivot_root: the host's paths, with the container's mounts (its /proc) under the rootfs.
      createContainer: [recorder('/bin/sh', `${log}/hooks`, 'createContainer', `$(test -e ${rootfs}/proc/self/ns && echo proc-mounted) `)],
      // After pivot_root: /bin/sh is the container's busybox, and /log the bind mount.
      startContainer: [recorder('/bin/sh', '/log/hooks', 'startContainer', '$(test -e /bin/busybox && echo container-root) ')],
      poststart: [recorder('/bin/sh', `${log}/hooks`, 'poststart')],
    }));
    const { record } = await createContainer({ id: b.id, bundle: b.dir, root });
    await startContainer(b.id, { root });
    expect(await waitForExit(record.pid, record.startTime)).toBe(0);
    const host = readlinkSync('/proc/self/ns/mnt');
    const container = readFileSync(join(b.log, 'container'), 'utf8').trim();
    const hooks = records(join(b.log, 'hooks'));
    expect(container).not.toBe(host);
    expect(hooks.createRuntime?.ns).toBe(host);
    expect(hooks.poststart?.ns).toBe(host);
    expect(hooks.createContainer?.ns).toBe(container); // its hostname is set later, with the process
    expect(hooks.startContainer).toMatchObject({ ns: container, hostname: 'hooked' });
    expect(hooks.createContainer?.rest).toMatch(/^proc-mounted /);
    expect(hooks.startContainer?.rest).toMatch(/^container-root /);
    // The state on stdin: creating while the container is built, created at start, running after.
    const state = (rest: string) => JSON.parse(rest.slice(rest.indexOf('{'))) as Record<string, unknown>;
    expect(state(hooks.createContainer!.rest)).toMatchObject({ id: b.id, pid: record.pid, status: 'creating', bundle: b.dir });
    expect(state(hooks.startContainer!.rest)).toMatchObject({ id: b.id, pid: record.pid, status: 'created' });
    expect(state(hooks.poststart!.rest)).toMatchObject({ id: b.id, status: 'running' });
  });

  needs('fails create naming a failing createContainer hook, and leaves nothing behind', async () => {
    const b = bundle(() => ({ createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo no way >&2; exit 3'] }] }));
    await expect(createContainer({ id: b.id, bundle: b.dir, root })).rejects.toThrow('hooks.createContainer[0] (/bin/sh) exited with status 3: no way');
    expect(existsSync(join(root, b.id))).toBe(false);
    expect(existsSync(`/sys/fs/cgroup/pids/isola-hooks/${process.pid}-${counter}`)).toBe(false);
    const missing = bundle(() => ({ createContainer: [{ path: '/no/such/hook' }] }));
    await expect(createContainer({ id: missing.id, bundle: missing.dir, root })).rejects.toThrow(/hooks.createContainer\[0\] \(\/no\/such\/hook\): step \d+, execve\("\/no\/such\/hook"\): ENOENT/);
    expect(existsSync(join(root, missing.id))).toBe(false);
  });

  needs('stops the container when a startContainer hook fails or times out', async () => {
    const b = bundle(() => ({ startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 1'] }] }));
    const { record } = await createContainer({ id: b.id, bundle: b.dir, root });
    await expect(startContainer(b.id, { root })).rejects.toThrow('hooks.startContainer[0] (/bin/sh) exited with status 1');
    await waitForExit(record.pid, record.startTime);
    expect(isAlive(record.pid, record.startTime)).toBe(false);
    expect(existsSync(join(b.log, 'container'))).toBe(false);
    const slow = bundle(() => ({ startContainer: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] }));
    const started = await createContainer({ id: slow.id, bundle: slow.dir, root });
    await expect(startContainer(slow.id, { root })).rejects.toThrow('hooks.startContainer[0] (/bin/sleep) timed out after 1 s');
    await waitForExit(started.record.pid, started.record.startTime);
  });
});
