// `isola vm` as users type it: run -d, ls (table and JSON), logs [-f], stop, rm [-f], and bad input
// answered with one line, status 125 and nothing left behind. Guests from tools/guest-kit.
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { buildGuests } from '../../tools/guest-kit/build.mjs';
import { isolaWith, list, useWorkDir } from '../support/cli.js';
import { itNeeds } from '../support/requirements.js';

const stateRoot = useWorkDir('isola-vm-');
const isola = isolaWith({ root: stateRoot });

afterAll(() => {
  // A failed test may leave a VM running: rm -f kills its monitor by the pid it recorded.
  const ids = list(join(stateRoot, 'vms'));
  if (ids.length) isola('vm', 'rm', '-f', ...ids);
});

const vmTest = itNeeds({ kvm: true, tools: ['gcc', 'ld', 'objcopy'] });

describe('isola vm', () => {
  vmTest('run -d prints an id; ls, logs -f, stop and rm work by name and id prefix', () => {
    const { guests } = buildGuests();
    const run = isola('vm', 'run', '-d', '--name', 'spin', '--cpus', '2', '--mem', '16', '--kernel', guests.spin.pvh);
    expect(run).toMatchObject({ status: 0, stderr: '' });
    const id = run.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const [row] = isola('vm', 'ls', '--format', 'json').stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(row).toEqual({ id, name: 'spin', state: 'running', cpus: 2, mem: 16, kernel: guests.spin.pvh, created: expect.any(String) });
    expect(isola('vm', 'ls').stdout).toMatch(new RegExp(`^VM ID +NAME +STATE.*\\n${id.slice(0, 12)} +spin +running +2 +16MiB `));
    expect(isola('vm', 'rm', 'spin')).toMatchObject({ status: 125, stderr: 'Error: VM spin is running: stop it first, or remove it with -f\n' });
    // The spinner ignores the power-off request (Ctrl+Alt+Del), so it is stopped after the timeout, as docker stop does.
    expect(isola('vm', 'stop', '-t', '1', id.slice(0, 8))).toEqual({ status: 0, stdout: `${id.slice(0, 8)}\n`, stderr: '' });
    expect(isola('vm', 'logs', '-f', 'spin').stdout).toContain('spinning\n');
    expect(JSON.parse(isola('vm', 'ls', '--format', 'json').stdout)).toMatchObject({ state: 'stopped', end: 'killed after the stop timeout' });
    expect(isola('vm', 'rm', 'spin')).toEqual({ status: 0, stdout: 'spin\n', stderr: '' });
    expect(isola('vm', 'ls', '-q').stdout).toBe('');
  }, 60_000);

  vmTest('bad input: one line, status 125 or 2, no VM left behind', () => {
    expect(isola('vm', 'run', '-d', '--kernel', '/etc/hostname')).toMatchObject({ status: 125, stdout: '', stderr: expect.stringMatching(/^Error: \/etc\/hostname: neither an ELF vmlinux nor a bzImage .*\n$/) });
    expect(isola('vm', 'run', '--name', 'x', '--flat', '/etc/hostname').status).toBe(2);
    expect(isola('vm', 'logs', 'nothere')).toEqual({ status: 125, stdout: '', stderr: 'Error: no such VM: nothere\n' });
    expect(isola('vm', 'ls', '-q').stdout).toBe('');
  }, 60_000);
});
