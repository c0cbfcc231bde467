// Containers from a real bundle under the real kernel: a busybox rootfs, the default runc spec.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { createCgroup } from '../cgroups/index.js';
import { defaultSpec } from '../spec/default.js';
import type { Spec } from '../spec/types.js';
import { createContainer } from './create.js';
import { deleteContainer } from './delete.js';
import { killContainer } from './kill.js';
import { containerState, listContainers } from './list.js';
import { runContainer } from './run.js';
import { startContainer } from './start.js';
import { waitForExit } from './wait.js';

const work = mkdtempSync(join(tmpdir(), 'isola-ct-'));
const root = join(work, 'state');
let counter = 0;
const created: string[] = [];

afterEach(async () => {
  for (const id of created.splice(0)) await deleteContainer(id, { root, force: true }).catch(() => {});
});
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  // The parent cgroup the tests' containers shared, empty by now.
  await createCgroup('/isola-test').destroy().catch(() => {});
});

/** A bundle whose rootfs is Debian's busybox-static with its applets, plus the given spec changes. */
function bundle(edit: (spec: Spec) => void = () => {}): { dir: string; spec: Spec; id: string } {
  const dir = join(work, `bundle-${++counter}`);
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  execFileSync('chmod', ['755', join(rootfs, 'bin/busybox')]);
  for (const applet of ['sh', 'echo', 'cat', 'ls', 'hostname', 'id', 'sleep', 'true', 'mount', 'grep', 'readlink', 'stat', 'touch', 'tty', 'stty']) {
    symlinkSync('busybox', join(rootfs, 'bin', applet));
  }
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.process!.env = ['PATH=/bin'];
  spec.linux!.cgroupsPath = `/isola-test/${process.pid}-${counter}`;
  edit(spec);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
  const id = `t${process.pid}-${counter}`;
  created.push(id);
  return { dir, spec, id };
}

/** Runs a container in the foreground with its stdout in a file; returns status and output. */
async function run(args: string[], edit: (spec: Spec) => void = () => {}) {
  const out = join(work, `out-${counter + 1}`);
  const b = bundle((spec) => {
    spec.process!.args = ['sh', '-c', `(${args.join(' ')}) > /out 2>&1`];
    spec.mounts!.push({ destination: '/out', type: 'bind', source: out, options: ['bind'] });
    edit(spec);
  });
  writeFileSync(out, '', { mode: 0o666 });
  execFileSync('chmod', ['666', out]);
  const status = await runContainer({ id: b.id, bundle: b.dir, root });
  return { status, output: readFileSync(out, 'utf8') };
}

const needs = itNeeds({ root: true, files: ['/bin/busybox'] });

describe('container lifecycle', () => {
  needs('runs a process as PID 1 in new namespaces with the spec hostname', async () => {
    const { status, output } = await run(['echo $$; hostname; grep -vc \':/$\' /proc/self/cgroup; ls /dev'], (s) => (s.hostname = 'box'));
    expect(status).toBe(0);
    const [pid, hostname, outsideRoot, ...dev] = output.trim().split('\n');
    expect(pid).toBe('1');
    expect(hostname).toBe('box');
    // In its cgroup namespace the container's own cgroup is the root of every hierarchy.
    expect(outsideRoot).toBe('0');
    expect(dev.join(' ')).toMatch(/full.*mqueue.*null.*pts.*random.*shm.*stderr.*stdin.*stdout.*tty.*urandom.*zero/);
  });

  needs('passes the exit status through', async () => {
    expect((await run(['exit 7'])).status).toBe(7);
  });

  needs('masks and write-protects what the spec says, and the root is read-only', async () => {
    const { output } = await run([
      'cat /proc/interrupts | wc -c; ls /sys/firmware | wc -l; touch /proc/sysrq-trigger 2>&1 || echo ro-proc; touch /newfile 2>&1 || echo ro-root',
    ]);
    const lines = output.trim().split('\n');
    expect(lines[0]).toBe('0');
    expect(lines[1]).toBe('0');
    expect(output).toContain('ro-proc');
    expect(output).toContain('ro-root');
  });

  needs('gives the default capability set and no_new_privs', async () => {
    const { output } = await run(['grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status']);
    // CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29) = 0x20000420
    expect(output).toMatch(/CapEff:\s+0000000020000420/);
    expect(output).toMatch(/CapBnd:\s+0000000020000420/);
    expect(output).toMatch(/NoNewPrivs:\s+1/);
  });

  needs('runs as the spec user with its groups, rlimits and cwd', async () => {
    const { output } = await run(['id -u; id -g; id -G; pwd; ulimit -n'], (s) => {
      s.process!.user = { uid: 1000, gid: 1001, additionalGids: [1002, 1003] };
      s.process!.cwd = '/tmp';
      s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 321, hard: 321 }];
      s.mounts!.find((m) => m.destination === '/out')!.options = ['bind'];
    });
    expect(output.trim().split('\n')).toEqual(['1000', '1001', '1001 1002 1003', '/tmp', '321']);
  });

  needs('goes through created → running → stopped, and delete removes everything', async () => {
    const b = bundle((s) => (s.process!.args = ['sleep', '30']));
    const { record } = await createContainer({ id: b.id, bundle: b.dir, root });
    expect((await containerState(b.id, root)).status).toBe('created');
    // It waits for start, blocked in read(2) (it may take a moment to get there after reporting ready).
    let state = '';
    for (let i = 0; i < 100 && !/State:\s+S/.test(state); i++) {
      state = readFileSync(`/proc/${record.pid}/status`, 'utf8');
      if (!/State:\s+S/.test(state)) await new Promise((r) => setTimeout(r, 10));
    }
    expect(state).toMatch(/State:\s+S/);
    await startContainer(b.id, { root });
    const running = await containerState(b.id, root);
    expect(running).toMatchObject({ id: b.id, status: 'running', pid: record.pid, bundle: b.dir });
    expect((await listContainers(root)).map((c) => c.id)).toContain(b.id);
    await expect(deleteContainer(b.id, { root })).rejects.toThrow(`cannot delete container "${b.id}" that is not stopped: running`);
    await killContainer(b.id, 'KILL', { root });
    expect(await waitForExit(record.pid, record.startTime)).toBe(137);
    expect((await containerState(b.id, root)).status).toBe('stopped');
    await deleteContainer(b.id, { root });
    expect(existsSync(join(root, b.id))).toBe(false);
    expect(readdirSync('/sys/fs/cgroup/memory/isola-test').some((d) => d.startsWith(`${process.pid}-`))).toBe(false);
  });

  needs('fails create naming the field or step, and leaves nothing behind', async () => {
    const missing = bundle((s) => (s.process!.args = ['/no/such/program']));
    await expect(createContainer({ id: missing.id, bundle: missing.dir, root })).rejects.toThrow(/exec: "\/no\/such\/program": executable file not found/);
    expect(existsSync(join(root, missing.id))).toBe(false);
    const badMount = bundle((s) => s.mounts!.push({ destination: '/data', type: 'bind', source: '/no/such/source', options: ['bind'] }));
    await expect(createContainer({ id: badMount.id, bundle: badMount.dir, root })).rejects.toThrow(/mounts\[7\] \(bind on \/data\): ENOENT/);
    expect(existsSync(join(root, badMount.id))).toBe(false);
    const dup = bundle((s) => (s.process!.args = ['sleep', '30']));
    await createContainer({ id: dup.id, bundle: dup.dir, root });
    await expect(createContainer({ id: dup.id, bundle: dup.dir, root })).rejects.toThrow(`container "${dup.id}" already exists`);
  });
});

describe('terminal', () => {
  needs('hands the pty master to --console-socket and makes the slave the controlling terminal', async () => {
    const { unixListen, unixAccept, recvFd, close } = await import('@isola/sys');
    const { readSync, writeSync } = await import('node:fs');
    const socketPath = join(work, 'console.sock');
    const listener = unixListen(socketPath);
    const b = bundle((s) => {
      s.process!.terminal = true;
      s.process!.consoleSize = { height: 33, width: 101 };
      s.process!.args = ['sh', '-c', 'tty; stty size; read line; echo "got $line"'];
    });
    const { record } = await createContainer({ id: b.id, bundle: b.dir, root, consoleSocket: socketPath });
    const conn = unixAccept(listener);
    const { fd: master, payload } = recvFd(conn);
    close(conn);
    close(listener);
    expect(payload).toBe('/dev/ptmx');
    await startContainer(b.id, { root });
    let output = '';
    const buf = Buffer.alloc(1024);
    const readUntil = (text: string) => {
      while (!output.includes(text)) {
        const n = readSync(master, buf);
        if (n <= 0) break;
        output += buf.toString('utf8', 0, n);
      }
    };
    // Type only once the program waits for input: the pty echoes what is typed.
    readUntil('33 101\r\n');
    writeSync(master, 'hello\n');
    readUntil('got hello');
    close(master);
    expect(output).toMatch(/^\/dev\/pts\/0\r\n33 101\r\n/);
    expect(output).toContain('got hello');
    expect(await waitForExit(record.pid, record.startTime)).toBe(0);
  });
});
