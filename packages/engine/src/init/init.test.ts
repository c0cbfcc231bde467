// The --init binary on its own, as an ordinary child here (PID 1 duties, reaping orphans, are tested in
// a container: test/e2e/exec.test.ts).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { INIT_HEX, applyInit, installInit } from './init.js';

const work = mkdtempSync(join(tmpdir(), 'isola-init-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const init = installInit(work);

const hasAs = (() => {
  try {
    execFileSync('as', ['--version'], { stdio: 'ignore' });
    execFileSync('objcopy', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function run(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(init, args, { encoding: 'utf8', env, timeout: 10_000 });
}

describe('isola-init', () => {
  it.runIf(hasAs)('is the assembly of init.S', () => {
    const dir = mkdtempSync(join(work, 'as-'));
    execFileSync('as', ['--64', '-o', join(dir, 'i.o'), join(import.meta.dirname, 'init.S')]);
    execFileSync('objcopy', ['-O', 'binary', '-j', '.text', join(dir, 'i.o'), join(dir, 'i.bin')]);
    expect(readFileSync(join(dir, 'i.bin')).toString('hex')).toBe(INIT_HEX);
  });

  it("runs the command, looked up in $PATH, and exits with its status (128 + the signal that killed it)", () => {
    expect(run(['sh', '-c', 'echo "$0 $1"; exit 7', 'a', 'b'])).toMatchObject({ status: 7, stdout: 'a b\n', stderr: '' });
    expect(run(['--', '/bin/sh', '-c', 'exit 0']).status).toBe(0);
    expect(run(['sh', '-c', 'kill -KILL $$']).status).toBe(137);
    // Empty and missing PATH entries are skipped over; an empty one means the current directory.
    expect(run(['true'], { PATH: '/no/such::/usr/bin:/bin' }).status).toBe(0);
  });

  it('fails with one line: 127 for a command it cannot execute, 2 without one', () => {
    expect(run(['no-such-command'])).toMatchObject({ status: 127, stderr: 'isola-init: cannot execute no-such-command\n' });
    expect(run(['/no/such'])).toMatchObject({ status: 127, stderr: 'isola-init: cannot execute /no/such\n' });
    expect(run(['x'.repeat(5000)]).status).toBe(127);
    expect(run([])).toMatchObject({ status: 2, stderr: 'usage: isola-init [--] COMMAND [ARG...]\n' });
    expect(run(['--'])).toMatchObject({ status: 2 });
  });

  it('forwards the signals it gets to the command', async () => {
    const child = spawn(init, ['sh', '-c', 'trap "echo HUP" HUP; trap "echo USR1" USR1; trap "echo TERM; exit 3" TERM; echo ready; while :; do sleep 0.05; done'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    const ended = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const until = async (text: string) => {
      for (let i = 0; i < 500 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 10));
    };
    await until('ready');
    child.kill('SIGHUP');
    await until('HUP');
    child.kill('SIGUSR1');
    await until('USR1');
    child.kill('SIGTERM');
    expect(await ended).toBe(3);
    expect(out).toBe('ready\nHUP\nUSR1\nTERM\n');
  });

  it('is bind-mounted at /dev/init in the spec, before the command', () => {
    const rootfs = mkdtempSync(join(work, 'rootfs-'));
    const spec = { process: { args: ['sleep', '1'] }, mounts: [{ destination: '/proc' }] };
    applyInit(spec, { root: work, rootfs });
    expect(spec.process.args).toEqual(['/dev/init', '--', 'sleep', '1']);
    expect(spec.mounts[1]).toEqual({ destination: '/dev/init', type: 'bind', source: init, options: ['bind', 'ro', 'nosuid', 'nodev'] });
    expect(statSync(join(rootfs, 'dev', 'init')).mode & 0o111).not.toBe(0);
  });

  it('never writes its placeholder outside the rootfs, whatever /dev is in the image', () => {
    const outside = mkdtempSync(join(work, 'host-'));
    const rootfs = mkdtempSync(join(work, 'rootfs-'));
    symlinkSync(outside, join(rootfs, 'dev'));
    applyInit({ process: { args: ['true'] } }, { root: work, rootfs });
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(rootfs, outside, 'init'))).toBe(true);
  });
});
