// exec, -i, -t and --init as users type them. Terminals are real: `script` (util-linux) gives isola a pty
// of its own, sized with stty, as a terminal emulator would.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { isolaArgv, isolaEnv, runCommand, runIsola, useBusyboxImage, useIsolaRoot } from '../support/cli.js';
import { itNeeds } from '../support/requirements.js';
import { useTestNetns } from '../support/netns.js';

// isola runs in a network namespace of this file's own: its default bridge is made there, not on the host.
const netns = useTestNetns();
const { work, root: stateRoot, options } = useIsolaRoot('isola-exec-e2e-', netns);
useBusyboxImage();
const env = isolaEnv(stateRoot);
const isolaCmd = isolaArgv(netns).join(' ');

const isola = (args: string[], input?: string) => runIsola(args, { ...options, input });

/** Runs a shell command line in a fresh pty of 30 rows and 100 columns; `input` is typed into it. */
function inTerminal(commandLine: string, input?: string, vars: Record<string, string> = {}) {
  return runCommand('script', ['-qec', `stty rows 30 cols 100; ${commandLine}`, '/dev/null'], { env: { ...env, ...vars, ISOLA: isolaCmd }, input });
}

function inspect(ref: string) {
  return JSON.parse(isola(['container', 'inspect', ref]).stdout)[0] as { Id: string; State: { Pid: number; Status: string; ExitCode: number } };
}

const scratch = () => readdirSync(tmpdir()).filter((d) => /^isola-(console|exec)-/.test(d)).sort();
const needs = itNeeds({ root: true, files: ['/bin/busybox'] });
const needsTerminal = itNeeds({ root: true, files: ['/bin/busybox'], tools: ['script', 'stty', 'pgrep'] });

describe('isola exec', () => {
  needs("runs in the container's namespaces and cgroup, with its profile and env; passes the exit status", () => {
    const scratchBefore = scratch();
    expect(isola(['run', '-d', '--name', 'box', '-e', 'FROM_RUN=1', 'busybox', 'sleep', '1000']).status).toBe(0);
    const same = 'for ns in pid mnt net ipc uts cgroup; do [ "$(readlink /proc/1/ns/$ns)" = "$(readlink /proc/self/ns/$ns)" ] || echo "$ns differs"; done;' +
      '[ "$(cat /proc/1/cgroup)" = "$(cat /proc/self/cgroup)" ] || echo cgroup differs;' +
      '[ "$(grep ^CapBnd /proc/1/status)" = "$(grep ^CapBnd /proc/self/status)" ] || echo caps differ;' +
      'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status | tr -s "\\t " " "; echo "$FROM_RUN $EXTRA $(id -u):$(id -g) $(pwd)"; echo err >&2; exit 3';
    expect(isola(['exec', '-e', 'EXTRA=2', 'box', 'sh', '-c', same])).toEqual({ status: 3, stdout: 'NoNewPrivs: 1\nSeccomp: 2\n1 2 0:0 /\n', stderr: 'err\n' });
    expect(isola(['exec', '-u', '1000:1000', '-w', '/tmp', 'box', 'sh', '-c', 'echo $(id -u):$(id -g) $(pwd)']).stdout).toBe('1000:1000 /tmp\n');
    // Flags after the container name belong to the command.
    expect(isola(['exec', 'box', 'ls', '-d', '/tmp']).stdout).toBe('/tmp\n');
    expect(isola(['exec', 'box', 'sh', '-c', 'kill -TERM $$']).status).toBe(143);
    expect(scratch()).toEqual(scratchBefore);
  }, 180_000);

  needs('-i passes stdin, without it stdin is /dev/null; -d prints nothing and leaves the process running', async () => {
    expect(isola(['exec', '-i', 'box', 'cat'], 'hi\n')).toEqual({ status: 0, stdout: 'hi\n', stderr: '' });
    expect(isola(['exec', 'box', 'cat'], 'hi\n')).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(isola(['exec', '-d', 'box', 'sh', '-c', 'echo lost; sleep 0.3; touch /tmp/detached; sleep 1000'])).toEqual({ status: 0, stdout: '', stderr: '' });
    for (let i = 0; i < 100 && isola(['exec', 'box', 'test', '-e', '/tmp/detached']).status !== 0; i++) await sleep(100);
    expect(isola(['exec', 'box', 'sh', '-c', 'ps -o comm | grep -c sleep']).stdout).toBe('2\n');
    expect(isola(['logs', 'box']).stdout).toBe('');
  }, 180_000);

  needs('bad input: one line, non-zero, nothing left behind', () => {
    const scratchBefore = scratch();
    expect(isola(['exec', 'no-such', 'true'])).toEqual({ status: 125, stdout: '', stderr: 'Error: no such container: no-such\n' });
    expect(isola(['exec', 'box', '/no/such/program'])).toMatchObject({ status: 125, stderr: expect.stringMatching(/^Error: exec: "\/no\/such\/program": executable file not found in [^\n]*\n$/) });
    expect(isola(['exec', '-u', 'nobody', 'box', 'true'])).toMatchObject({ status: 125, stderr: expect.stringMatching(/^Error: --user "nobody": [^\n]*\n$/) });
    expect(isola(['exec', '-w', 'relative', 'box', 'true'])).toMatchObject({ status: 125, stderr: expect.stringMatching(/^Error: -w "relative": [^\n]*\n$/) });
    expect(isola(['exec', '-d', '-t', 'box', 'true']).status).toBe(125);
    expect(isola(['exec', 'box'])).toEqual({ status: 125, stdout: '', stderr: 'Error: exec needs a command to run in the container\n' });
    expect(isola(['exec']).status).not.toBe(0);
    expect(isola(['stop', '-t', '1', 'box']).status).toBe(0);
    expect(isola(['exec', 'box', 'true'])).toEqual({ status: 125, stdout: '', stderr: 'Error: container box is not running\n' });
    expect(scratch()).toEqual(scratchBefore);
    expect(isola(['rm', 'box']).status).toBe(0);
  }, 180_000);
});

describe('-i and -t', () => {
  needs('run -i attaches stdin, in the foreground, with --rm, and keeps it open when detached', async () => {
    expect(isola(['run', '-i', 'busybox', 'cat'], 'hi\n')).toEqual({ status: 0, stdout: 'hi\n', stderr: '' });
    expect(isola(['run', 'busybox', 'cat'], 'hi\n')).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(isola(['run', '--rm', '-i', 'busybox', 'cat'], 'hi\n')).toEqual({ status: 0, stdout: 'hi\n', stderr: '' });
    expect(isola(['run', '--rm', 'busybox', 'cat'], 'hi\n')).toEqual({ status: 0, stdout: '', stderr: '' });
    // Detached: `sh` waits on a stdin that never ends (docker's `run -di`); without -i it ends at once.
    isola(['run', '-d', '-i', '--name', 'open-stdin', 'busybox', 'sh']);
    isola(['run', '-d', '--name', 'null-stdin', 'busybox', 'sh']);
    expect(isola(['wait', 'null-stdin']).stdout).toBe('0\n');
    await sleep(500);
    expect(inspect('open-stdin').State.Status).toBe('running');
    expect(isola(['rm', '-f', 'open-stdin', 'null-stdin']).status).toBe(0);
  }, 180_000);

  needsTerminal('-t gives the container a pty of the terminal\'s size, in run, run --rm and exec', () => {
    expect(inTerminal('$ISOLA run -t busybox tty').stdout).toBe('/dev/pts/0\r\r\n');
    expect(inTerminal('$ISOLA run --rm -t busybox stty size').stdout).toBe('30 100\r\r\n');
    expect(inTerminal('$ISOLA run -t busybox sh -c "stty size; exit 6"')).toMatchObject({ status: 6, stdout: '30 100\r\r\n' });
    isola(['run', '-d', '--name', 'term', 'busybox', 'sleep', '1000']);
    expect(inTerminal('$ISOLA exec -t term sh -c "tty; stty size; exit 4"')).toMatchObject({ status: 4, stdout: '/dev/pts/0\r\r\n30 100\r\r\n' });
    // Without -t, no terminal, even when isola has one.
    expect(inTerminal('$ISOLA exec term sh -c "tty; true"').stdout).toBe('not a tty\r\n');
  }, 180_000);

  needsTerminal('-it relays the keys, restores the terminal, and follows a resize (SIGWINCH)', () => {
    const typed = 'echo $((6*7))\nexit 5\n';
    for (const run of ['run -it busybox sh', 'run --rm -it busybox sh', 'exec -it term sh']) {
      // The terminal's settings before and after must match: raw only while attached.
      const r = inTerminal(`stty -g > ${work}/before; sleep 0.5; $ISOLA ${run}; code=$?; stty -g > ${work}/after; exit $code`, typed);
      expect(r.status, run).toBe(5);
      expect(r.stdout, run).toContain('42\r');
      expect(readFileSync(`${work}/after`, 'utf8'), run).toBe(readFileSync(`${work}/before`, 'utf8'));
    }
    // The container shows its size, then waits (as `resize-wait`, a name its first command line does not
    // hold) for it to change; the terminal is resized once that process exists.
    const wait = `stty size; exec sh -c 'while [ "$(stty size)" = "30 100" ]; do sleep 0.1; done; stty size' resize-wai""t`;
    const resize = '(until pgrep -f resize-wai[t] >/dev/null; do sleep 0.1; done; stty rows 40 cols 120 < /dev/tty) &';
    for (const run of ['run -t busybox', 'run --rm -t busybox', 'exec -t term']) {
      const r = inTerminal(`${resize} $ISOLA ${run} sh -c "$WAIT"`, undefined, { WAIT: wait });
      expect(r.stdout, run).toBe('30 100\r\r\n40 120\r\r\n');
    }
  }, 180_000);

  needs('-d -t keeps the pty with the monitor: the container runs, its output is in the log', async () => {
    const id = isola(['run', '-d', '-t', '--name', 'bg-tty', 'busybox', 'sh', '-c', 'tty; sleep 1000']).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    for (let i = 0; i < 100 && !isola(['logs', 'bg-tty']).stdout; i++) await sleep(50);
    expect(isola(['logs', 'bg-tty']).stdout).toBe('/dev/pts/0\r\n');
    expect(inspect('bg-tty').State.Status).toBe('running');
    expect(isola(['rm', '-f', 'bg-tty', 'term']).status).toBe(0);
  }, 180_000);
});

/**
 * The pids of `pid`'s outermost descendants whose command line contains `text`. A match's own children are not
 * searched: a child the CLI has forked but not yet exec'd still shows the CLI's command line.
 */
function descendants(pid: number, text: string): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      try {
        if (readFileSync(`/proc/${c}/cmdline`, 'utf8').includes(text)) {
          found.push(c);
          continue;
        }
      } catch {
        // gone
      }
      walk(c);
    }
  };
  walk(pid);
  return found;
}

describe('a terminal that outlives the CLI', () => {
  needsTerminal('run -t: killing the CLI leaves the container running with its pty (the monitor holds it)', async () => {
    const terminal = spawn('script', ['-qec', `${isolaCmd} run -t --name outlives busybox sh -c 'while [ ! -e /tmp/go ]; do sleep 0.1; done; echo still here; sleep 1000'`, '/dev/null'], { env, stdio: 'ignore' });
    const ended = new Promise((resolve) => terminal.once('exit', resolve));
    let cli: number[] = [];
    for (let i = 0; i < 600 && (cli.length === 0 || isola(['ps']).stdout.indexOf(' outlives') < 0); i++) {
      await sleep(100);
      cli = descendants(terminal.pid!, 'isola.cjs');
    }
    expect(cli).toHaveLength(1);
    process.kill(cli[0]!, 'SIGKILL');
    await ended;
    expect(isola(['exec', 'outlives', 'touch', '/tmp/go']).status).toBe(0);
    for (let i = 0; i < 100 && !isola(['logs', 'outlives']).stdout.includes('still'); i++) await sleep(100);
    expect(isola(['logs', 'outlives']).stdout).toBe('still here\r\n');
    expect(inspect('outlives').State.Status).toBe('running');
    expect(isola(['rm', '-f', 'outlives']).status).toBe(0);
  }, 180_000);
});

describe('--init', () => {
  needs('PID 1 is the init; the command gets SIGTERM on stop; its exit status passes through', () => {
    expect(isola(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'tr "\\0" " " < /proc/1/cmdline; echo; exit 7'])).toEqual({ status: 7, stdout: '/dev/init -- sh -c tr "\\0" " " < /proc/1/cmdline; echo; exit 7 \n', stderr: '' });
    expect(isola(['run', '--init', 'busybox', 'sh', '-c', 'kill -KILL $$']).status).toBe(137);
    // sleep as PID 1 would ignore SIGTERM until the 20 s timeout and end by SIGKILL (137); under the
    // init it gets the SIGTERM and ends by it (143).
    isola(['run', '-d', '--init', '--name', 'sleeper', 'busybox', 'sleep', '1000']);
    expect(isola(['stop', '-t', '20', 'sleeper']).status).toBe(0);
    expect(isola(['wait', 'sleeper']).stdout).toBe('143\n');
    expect(isola(['rm', 'sleeper']).status).toBe(0);
  }, 180_000);

  needs('orphans are reaped: no zombie after a double fork', () => {
    const zombies = 'sh -c "sleep 0.2 &"; sleep 1; grep -l "^State:.Z" /proc/[0-9]*/status; echo done';
    expect(isola(['run', '--rm', '--init', 'busybox', 'sh', '-c', zombies]).stdout).toBe('done\n');
  }, 180_000);

  needs('a command it cannot execute: 127 and one line', () => {
    expect(isola(['run', '--rm', '--init', 'busybox', 'no-such-command'])).toEqual({ status: 127, stdout: '', stderr: 'isola-init: cannot execute no-such-command\n' });
  }, 180_000);
});
