// `isola run` as users type it: the embedded busybox image, flags, exit statuses, and nothing left behind.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { isolaBin as bin, isolaEnv, runCommand, useIsolaRoot } from '../support/cli.js';
import { itNeeds } from '../support/requirements.js';
import { useTestNetns } from '../support/netns.js';

// isola runs in a network namespace of this file's own: its default bridge is made there, not on the host.
const netns = useTestNetns();
const { work, root: stateRoot, isola } = useIsolaRoot('isola-run-', netns);

const needs = itNeeds({ root: true, files: ['/bin/busybox'] });

describe('isola run', () => {
  needs('runs the embedded busybox image with no registry, and passes output and exit status through', async () => {
    const { buildBusyboxImage } = await import('@isola/busybox-image');
    await buildBusyboxImage();
    expect(isola('run', 'busybox', 'echo', 'hi')).toEqual({ status: 0, stdout: 'hi\n', stderr: '' });
    const r = isola('run', '--rm', 'busybox', 'sh', '-c', 'echo $$; exit 7');
    expect(r.stdout).toBe('1\n');
    expect(r.status).toBe(7);
    // Without --rm the container stays, and inspect finds it by name when no image has that name.
    expect(isola('run', '--name', 'kept', 'busybox', 'sh', '-c', 'exit 3').status).toBe(3);
    const [kept] = JSON.parse(isola('inspect', 'kept').stdout);
    expect(kept.State).toMatchObject({ Status: 'exited', ExitCode: 3 });
    expect(isola('rm', 'kept').status).toBe(0);
  });

  needs('applies -e, -w, -u, --hostname, --read-only and --network', () => {
    const r = isola('run', '-e', 'GREETING=hello', '-w', '/tmp', '-u', '1000:1000', '--hostname', 'box', 'busybox', 'sh', '-c', 'echo "$GREETING $(pwd) $(id -u):$(id -g) $(hostname)"');
    expect(r.stdout).toBe('hello /tmp 1000:1000 box\n');
    expect(isola('run', '--read-only', 'busybox', 'touch', '/x').status).not.toBe(0);
    expect(isola('run', 'busybox', 'touch', '/x').status).toBe(0);
    expect(isola('run', 'busybox', 'ls', '/sys/class/net').stdout).toBe('eth0\nlo\n'); // the default bridge
    expect(isola('run', '--network', 'none', 'busybox', 'ls', '/sys/class/net').stdout).toBe('lo\n');
    // host: the namespace isola runs in (this file's own, where a marker link is made)
    expect(spawnSync('ip', ['-n', netns.name, 'link', 'add', 'marker0', 'type', 'veth', 'peer', 'name', 'marker1']).status).toBe(0);
    expect(isola('run', '--network', 'host', 'busybox', 'ls', '/sys/class/net').stdout).toContain('marker0');
  });

  needs('reads --env-file and applies --security-opt', () => {
    const envFile = join(work, 'app.env');
    writeFileSync(envFile, '# settings\nGREETING=from the file\n\nNAME=file\nPASSED\n');
    // The command as users run it (its #! line), since Node itself would take a --env-file after `node bin`.
    const direct = (extra: Record<string, string>, ...args: string[]) => runCommand('nsenter', [`--net=${netns.path}`, bin, ...args], { env: isolaEnv(stateRoot, extra) });
    expect(direct({ PASSED: 'through' }, 'run', '--env-file', envFile, '-e', 'NAME=flag', 'busybox', 'sh', '-c', 'echo "$GREETING/$NAME/$PASSED"').stdout).toBe('from the file/flag/through\n');
    expect(direct({}, 'run', '--env-file', join(work, 'missing.env'), 'busybox', 'true')).toMatchObject({ status: 125, stderr: expect.stringMatching(/^Error: --env-file .*missing\.env: ENOENT\n$/) });
    const status = (...flags: string[]) => isola('run', '--rm', '--network', 'none', ...flags, 'busybox', 'grep', '-E', '^(Seccomp|NoNewPrivs):', '/proc/self/status').stdout;
    expect(status()).toBe('NoNewPrivs:\t1\nSeccomp:\t2\n');
    expect(status('--security-opt', 'seccomp=unconfined', '--security-opt', 'no-new-privileges=false')).toBe('NoNewPrivs:\t0\nSeccomp:\t0\n');
    const profile = join(work, 'deny-mkdir.json');
    writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
    const denied = isola('run', '--rm', '--network', 'none', '--security-opt', `seccomp=${profile}`, 'busybox', 'mkdir', '/tmp/x');
    expect(denied.status).not.toBe(0);
    expect(denied.stderr).toMatch(/Operation not permitted/);
    for (const [flags, message] of [
      [['--security-opt', 'apparmor=docker-default'], /^Error: --security-opt "apparmor=docker-default": supported are /],
      [['--security-opt', `seccomp=${envFile}`], /^Error: --security-opt seccomp=.*: cannot read the profile: /],
    ] as const) {
      expect(isola('run', ...flags, 'busybox', 'true')).toMatchObject({ status: 125, stderr: expect.stringMatching(message) });
    }
  });

  needs('fails with one line for a missing image or command, and leaves no mount, rootfs or cgroup behind', () => {
    const before = readdirSync(join(stateRoot, 'image', 'containers')).sort();
    // --pull never: the default would try docker.io (which this test's namespace cannot reach).
    const missing = isola('run', '--pull', 'never', 'no-such-image', 'true');
    expect(missing.status).toBe(125);
    expect(missing.stderr).toMatch(/^Error: image "no-such-image" not found in .* \(looked for docker\.io\/library\/no-such-image:latest\)\n$/);
    const noCommand = isola('run', 'busybox', '/no/such/program');
    expect(noCommand.status).toBe(125);
    expect(noCommand.stderr).toMatch(/^Error: exec: "\/no\/such\/program": executable file not found/);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(stateRoot);
    expect(readdirSync(join(stateRoot, 'image', 'containers')).sort()).toEqual(before);
    expect(readdirSync('/sys/fs/cgroup/memory/isola').filter((d) => /^[0-9a-f]{12}$/.test(d))).toEqual([]);
  });
});
