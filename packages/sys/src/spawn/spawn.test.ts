// Children started under the real kernel, by both paths (the interpreter's machine code, and the pure-TS
// path's Node child): steps run, namespaces are new, failures name their step. The TS path's child runs
// the compiled dist/ of @isola/sys: `npx nx run sys:build` first (npm test does).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import * as c from '../abi/constants.js';
import { close, pipe2, write } from '../syscalls/files.js';
import { waitid } from '../syscalls/process.js';
import { INTERPRETER_HEX } from './interpreter.js';
import { type Step, slot } from './program.js';
import { readAll, runCaptured } from '../testing.js';
import { READY, SpawnError, spawn, spawnChild, spawnPath } from './spawn.js';
import * as s from './steps.js';

/** Runs steps with the child's stdout on a pipe; returns what it printed and how it ended. */
function run(steps: Step[], namespaces = 0) {
  return runCaptured(steps, { namespaces });
}

describe('interpreter', () => {
  itNeeds({ tools: ['as', 'objcopy'] })('runs the bytes assembled from interpreter.S', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isola-asm-'));
    try {
      const source = new URL('./interpreter.S', import.meta.url).pathname;
      execFileSync('as', ['--64', '-o', join(dir, 'i.o'), source]);
      execFileSync('objcopy', ['-O', 'binary', '-j', '.text', join(dir, 'i.o'), join(dir, 'i.bin')]);
      expect(readFileSync(join(dir, 'i.bin')).toString('hex')).toBe(INTERPRETER_HEX);
      expect(INTERPRETER_HEX.length / 2).toBeLessThanOrEqual(256);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Runs the enclosing describe's tests with ISOLA_SPAWN set to `path`. */
function onPath(path: 'machine-code' | 'ts'): void {
  const saved = process.env.ISOLA_SPAWN;
  beforeAll(() => {
    process.env.ISOLA_SPAWN = path;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.ISOLA_SPAWN;
    else process.env.ISOLA_SPAWN = saved;
  });
}

describe.each(['machine-code', 'ts'] as const)('spawn (%s path)', (path) => {
  onPath(path);

  it('takes the path it was asked to', () => {
    expect(spawnPath()).toBe(path);
  });

  it('runs steps and exits 0 when the list ends without execve', () => {
    const { output, state } = run([s.writeStep(1, 'first '), s.writeStep(1, 'second')]);
    expect(output).toBe('first second');
    expect(state).toMatchObject({ kind: 'exited', status: 0 });
  });

  itNeeds({ files: ['/bin/busybox'] })('execs a program with the given argv and environment', () => {
    const { output, state } = run([s.execveStep('/bin/busybox', ['sh', '-c', 'echo "$A $0 $#" "$@"', 'zero', 'x y'], ['A=env'])]);
    expect(output).toBe('env zero 1 x y\n');
    expect(state).toMatchObject({ kind: 'exited', status: 0 });
  });

  itNeeds({ root: true, files: ['/bin/busybox'] })('creates new UTS, PID, mount, IPC and network namespaces', () => {
    const ns = c.CLONE_NEWUTS | c.CLONE_NEWPID | c.CLONE_NEWNS | c.CLONE_NEWIPC | c.CLONE_NEWNET;
    const { output } = run(
      [
        s.sethostnameStep('isola-test'),
        s.mountStep(null, '/', null, c.MS_REC | c.MS_PRIVATE),
        s.mountStep('proc', '/proc', 'proc', c.MS_NOSUID | c.MS_NODEV | c.MS_NOEXEC),
        s.execveStep('/bin/busybox', ['sh', '-c', 'hostname; echo $$; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "; readlink /proc/self/ns/uts'], []),
      ],
      ns,
    );
    const [hostname, pid, net, uts] = output.trim().split('\n');
    expect(hostname).toBe('isola-test');
    expect(pid).toBe('1');
    expect(net).toBe('lo');
    expect(uts).toMatch(/^uts:\[\d+\]$/);
    expect(uts).not.toBe(readlinkSync('/proc/self/ns/uts'));
    expect(readFileSync('/proc/sys/kernel/hostname', 'utf8').trim()).not.toBe('isola-test');
  });

  it('names the failing step and errno, and reaps the child', () => {
    let error: unknown;
    try {
      spawn({ steps: [s.chdirStep('/'), s.execveStep('/no/such/program', ['x'], [])] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SpawnError);
    expect((error as SpawnError).message).toBe('step 2, execve("/no/such/program"): ENOENT (No such file or directory)');
    expect((error as SpawnError).code).toBe('ENOENT');
    expect(() => waitid('any', c.WEXITED | c.WNOHANG)).toThrow(/ECHILD/);
  });

  it('waits for the parent before running the rest of its steps', () => {
    const [syncR, syncW] = pipe2();
    const [outR, outW] = pipe2();
    const child = spawnChild({ steps: [s.waitForParentStep(syncR), s.writeStep(outW, 'released')] });
    close(syncR);
    close(outW);
    write(syncW, Buffer.from('x'));
    close(syncW);
    child.awaitSteps();
    expect(readAll(outR)).toBe('released');
    close(outR);
    expect(waitid({ pid: child.pid })).toMatchObject({ kind: 'exited', status: 0 });
  });

  it('resets signal dispositions and the mask Node had', () => {
    // Node ignores SIGPIPE; a shell started through spawn must see the default disposition again.
    const { output } = run([s.execveStep('/bin/sh', ['sh', '-c', 'grep -E "^(SigIgn|SigBlk)" /proc/self/status'], [])]);
    expect(output).toMatch(/SigBlk:\s+0+\n/);
    expect(output).toMatch(/SigIgn:\s+0+\n/);
  });
});

describe.each(['machine-code', 'ts'] as const)('seccomp step (%s path)', (path) => {
  onPath(path);

  it('installs a filter whose verdict the child then lives under', () => {
    // A filter that fails every syscall with EPERM except write and exit_group (x86-64 numbers 1, 231).
    const insn = (code: number, jt: number, jf: number, k: number) => {
      const b = Buffer.alloc(8);
      b.writeUInt16LE(code, 0);
      b[2] = jt;
      b[3] = jf;
      b.writeUInt32LE(k >>> 0, 4);
      return b;
    };
    const filter = Buffer.concat([
      insn(0x20, 0, 0, 0), //          ld  [nr]
      insn(0x15, 2, 0, 1), //          jeq #1 (write), allow
      insn(0x15, 1, 0, 231), //        jeq #231 (exit_group), allow
      insn(0x06, 0, 0, 0x00050001), // ret ERRNO(EPERM)
      insn(0x06, 0, 0, 0x7fff0000), // ret ALLOW
    ]);
    const [r, w] = pipe2();
    const child = spawnChild({ steps: [s.prctlStep(c.PR_SET_NO_NEW_PRIVS, 1), s.seccompStep(filter), s.writeStep(w, 'filtered'), s.chdirStep('/')] });
    close(w);
    // The filter lets write through and fails chdir with EPERM, which the child reports as step 4.
    expect(() => child.awaitSteps()).toThrow('step 4, chdir("/"): EPERM (Operation not permitted)');
    expect(readAll(r)).toBe('filtered');
    close(r);
    expect(() => s.seccompStep(new Uint8Array(12))).toThrow(/1 to 4096 8-byte instructions/);
  });
});

describe.each(['machine-code', 'ts'] as const)('slots (%s path)', (path) => {
  onPath(path);

  it('passes a saved fd to later steps', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isola-slot-'));
    try {
      const path = join(dir, 'out');
      const data = Buffer.from('through slot 5');
      const pid = spawn({
        steps: [
          { syscall: 'openat', args: [c.AT_FDCWD, path, c.O_WRONLY | c.O_CREAT | c.O_CLOEXEC, 0o600], describe: 'open out', saveTo: 5 },
          { syscall: 'write', args: [slot(5), data, data.length], describe: 'write out' },
          s.closeSlotStep(5),
        ],
      });
      expect(waitid({ pid })).toMatchObject({ kind: 'exited', status: 0 });
      expect(readFileSync(path, 'utf8')).toBe('through slot 5');
      expect(() => spawn({ steps: [{ syscall: 'close', args: [slot(8)], describe: 'bad' }] })).toThrow(/slot 8 is not 0-7/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  itNeeds({ root: true })('joins a namespace through an fd opened in the child', () => {
    // A first child holds a UTS namespace with its own hostname until released.
    const [holdR, holdW] = pipe2();
    const holder = spawnChild({ namespaces: c.CLONE_NEWUTS, steps: [s.sethostnameStep('joined-ns'), s.waitForParentStep(holdR)] });
    close(holdR);
    try {
      const path = `/proc/${holder.pid}/ns/uts`;
      for (let i = 0; i < 100 && readlinkSync(path) === readlinkSync('/proc/self/ns/uts'); i++) execFileSync('sleep', ['0.01']);
      const { output } = run([s.openStep(path, c.O_RDONLY, 0), s.setnsStep(0, c.CLONE_NEWUTS, path), s.execveStep('/bin/sh', ['sh', '-c', 'hostname'], [])]);
      expect(output.trim()).toBe('joined-ns');
    } finally {
      write(holdW, Buffer.from('x')); // closing is not enough: the holder has its own copy of this end
      close(holdW);
      holder.awaitSteps();
      waitid({ pid: holder.pid });
    }
  });

  itNeeds({ root: true })('joins a mount namespace (setns needs the thread\'s own fs attributes)', () => {
    const [holdR, holdW] = pipe2();
    const holder = spawnChild({ namespaces: c.CLONE_NEWNS, steps: [s.waitForParentStep(holdR)] });
    close(holdR);
    try {
      const path = `/proc/${holder.pid}/ns/mnt`;
      for (let i = 0; i < 100 && readlinkSync(path) === readlinkSync('/proc/self/ns/mnt'); i++) execFileSync('sleep', ['0.01']);
      const { output } = run([s.openStep(path, c.O_RDONLY, 0), s.setnsStep(0, c.CLONE_NEWNS, path), s.execveStep('/bin/sh', ['sh', '-c', 'readlink /proc/self/ns/mnt'], [])]);
      expect(output.trim()).toBe(readlinkSync(path));
    } finally {
      write(holdW, Buffer.from('x'));
      close(holdW);
      holder.awaitSteps();
      waitid({ pid: holder.pid });
    }
  });
});

describe.each(['machine-code', 'ts'] as const)('READY (%s path)', (path) => {
  onPath(path);

  it('reports readiness and leaves the child running until released', () => {
    const [syncR, syncW] = pipe2();
    const [outR, outW] = pipe2();
    const child = spawnChild({ steps: [s.chdirStep('/'), READY, s.waitForParentStep(syncR), s.writeStep(outW, 'after')] });
    close(syncR);
    close(outW);
    child.awaitReady();
    write(syncW, Buffer.from('x'));
    close(syncW);
    child.awaitSteps();
    expect(readAll(outR)).toBe('after');
    close(outR);
    expect(waitid({ pid: child.pid })).toMatchObject({ kind: 'exited', status: 0 });
  });

  it('fails awaitReady with the step that failed before it', () => {
    const child = spawnChild({ steps: [s.chdirStep('/nonexistent'), READY] });
    expect(() => child.awaitReady()).toThrow('step 1, chdir("/nonexistent"): ENOENT (No such file or directory)');
  });
});

describe('choosing the path', () => {
  it('rejects an unknown ISOLA_SPAWN value, naming it', () => {
    const saved = process.env.ISOLA_SPAWN;
    process.env.ISOLA_SPAWN = 'fast';
    try {
      expect(() => spawnChild({ steps: [s.exitStep(0)] })).toThrow('ISOLA_SPAWN=fast: expected "machine-code" or "ts"');
    } finally {
      if (saved === undefined) delete process.env.ISOLA_SPAWN;
      else process.env.ISOLA_SPAWN = saved;
    }
  });

  it('refuses a new user namespace on the TS path with a reason, leaving no child', () => {
    const saved = process.env.ISOLA_SPAWN;
    process.env.ISOLA_SPAWN = 'ts';
    try {
      expect(() => spawnChild({ namespaces: c.CLONE_NEWUSER, steps: [s.exitStep(0)] })).toThrow(/new user namespace needs the machine-code spawn path/);
      expect(() => waitid('any', c.WEXITED | c.WNOHANG)).toThrow(/ECHILD/);
    } finally {
      if (saved === undefined) delete process.env.ISOLA_SPAWN;
      else process.env.ISOLA_SPAWN = saved;
    }
  });

  it('falls back to the TS path by itself where memory may not become executable (PR_SET_MDWE)', () => {
    // A process of its own: MDWE cannot be undone. --jitless, because V8's JIT needs executable memory too.
    const sys = new URL('../../dist/index.js', import.meta.url).href;
    const script = `const sys = await import(${JSON.stringify(sys)});
      sys.prctl(65, 1); // PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
      const [r, w] = sys.pipe2();
      const pid = sys.spawn({ steps: [sys.steps.writeStep(w, 'child ran')] });
      sys.close(w);
      const b = Buffer.alloc(64);
      const n = sys.read(r, b);
      console.log(sys.spawnPath(), b.subarray(0, n).toString(), JSON.stringify(sys.waitid({ pid })));`;
    const env = { ...process.env };
    delete env.ISOLA_SPAWN;
    const r = spawnSync(process.execPath, ['--jitless', '--no-expose-wasm', '--input-type=module', '-e', script], { encoding: 'utf8', env });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^ts child ran \{"kind":"exited","pid":\d+,"status":0\}\n$/);
  });
});
