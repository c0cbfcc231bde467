// The monitor on its own, without containers: a shell child stands in for the init (the shell execs
// the monitor in its place, so the child is the monitor's own), fifos for its stdout and stderr.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { LogReader } from '../logs/log-file.js';
import { MONITOR_HEX, decodeExitRecord, encodeExitRecord, installMonitor } from './monitor.js';

const work = mkdtempSync(join(tmpdir(), 'isola-monitor-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const hasAs = (() => {
  try {
    execFileSync('as', ['--version'], { stdio: 'ignore' });
    execFileSync('objcopy', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Runs `child` (a shell command) under the monitor; returns the monitor's pid and a promise of its end. */
function monitored(dir: string, child: string, exitCommand: string[] = []) {
  const monitor = installMonitor(work);
  const script = `cd "$1"; mkfifo o e; (${child}) >o 2>e & exec 0<o 1<e 2>>container.log "$2" $! "$1" "\${@:3}"`;
  const shell = spawn('bash', ['-c', script, 'bash', dir, monitor, ...exitCommand], { stdio: 'ignore' });
  const ended = new Promise<number | null>((resolve) => shell.once('exit', resolve));
  return { pid: shell.pid!, ended };
}

describe('the container monitor', () => {
  it.runIf(hasAs)('is the assembly of monitor.S', () => {
    const dir = mkdtempSync(join(work, 'as-'));
    execFileSync('as', ['--64', '-o', join(dir, 'm.o'), join(import.meta.dirname, 'monitor.S')]);
    execFileSync('objcopy', ['-O', 'binary', '-j', '.text', join(dir, 'm.o'), join(dir, 'm.bin')]);
    expect(readFileSync(join(dir, 'm.bin')).toString('hex')).toBe(MONITOR_HEX);
  });

  it('logs both streams as framed records, records the exit status, then runs the exit command', async () => {
    const dir = mkdtempSync(join(work, 'c-'));
    const { ended } = monitored(dir, 'echo out; echo err >&2; sleep 0.3; printf partial; exit 3', ['/bin/sh', '-c', 'touch cleaned; ls -l /proc/self/fd/0 > stdin']);
    expect(await ended).toBe(0);
    const lines = new LogReader().push(readFileSync(join(dir, 'container.log')));
    expect(lines.map((l) => `${l.stream}:${l.text.toString()}`).sort()).toEqual(['stderr:err\n', 'stdout:out\n']);
    const reader = new LogReader();
    reader.push(readFileSync(join(dir, 'container.log')));
    expect(reader.flush().map((l) => l.text.toString())).toEqual(['partial']);
    const exit = decodeExitRecord(readFileSync(join(dir, 'exit')));
    expect(exit?.exitCode).toBe(3);
    expect(Math.abs(exit!.finishedAt.getTime() - Date.now())).toBeLessThan(10_000);
    // The exit command runs after the record is written, with stdio on /dev/null (cwd: the shell's, dir).
    expect(existsSync(join(dir, 'cleaned'))).toBe(true);
    expect(readFileSync(join(dir, 'stdin'), 'utf8')).toContain('-> /dev/null');
  });

  it('reports a death by signal as 128 + the signal', async () => {
    const dir = mkdtempSync(join(work, 'c-'));
    // Not before the shell has exec'd the monitor: bash would reap it itself.
    const { ended } = monitored(dir, 'sleep 0.3; kill -TERM $BASHPID');
    await ended;
    expect(decodeExitRecord(readFileSync(join(dir, 'exit')))).toMatchObject({ exitCode: 143, signal: 15 });
  });

  it('costs well under 5 MiB of RSS while it watches', async () => {
    const dir = mkdtempSync(join(work, 'c-'));
    const { pid, ended } = monitored(dir, 'head -c 300000 /dev/zero; sleep 1');
    let rssKiB = 0;
    for (let i = 0; i < 100 && !/isola-monitor/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8')); i++) await sleep(10);
    await sleep(300);
    rssKiB = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
    await ended;
    console.log(`monitor RSS while watching: ${rssKiB} KiB`);
    expect(rssKiB).toBeGreaterThan(0);
    expect(rssKiB).toBeLessThanOrEqual(5 * 1024);
    expect(new LogReader().push(readFileSync(join(dir, 'container.log'))).length).toBe(0);
  });

  it('encodes the exit record the same way for a foreground --rm', () => {
    expect(decodeExitRecord(encodeExitRecord(7))?.exitCode).toBe(7);
    expect(decodeExitRecord(encodeExitRecord(137))).toMatchObject({ exitCode: 137, signal: 9 });
  });
});
