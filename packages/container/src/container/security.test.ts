// Regression tests for the known runtime escapes, each with the container trying the attack for real.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { createCgroup } from '../cgroups/index.js';
import { defaultSpec } from '../spec/default.js';
import type { Spec } from '../spec/types.js';
import { deleteContainer } from './delete.js';
import { runContainer } from './run.js';

const work = mkdtempSync(join(tmpdir(), 'isola-sec-'));
const root = join(work, 'state');
let n = 0;
const ids: string[] = [];
afterEach(async () => {
  for (const id of ids.splice(0)) await deleteContainer(id, { root, force: true }).catch(() => {});
});
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await createCgroup('/isola-sec').destroy().catch(() => {});
});

async function attack(script: string, edit: (spec: Spec, rootfs: string) => void = () => {}) {
  const dir = join(work, `b${++n}`);
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  execFileSync('chmod', ['755', join(rootfs, 'bin/busybox')]);
  execFileSync('chroot', [rootfs, '/bin/busybox', '--install', '-s', '/bin']);
  const out = join(work, `out${n}`);
  writeFileSync(out, '');
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.process!.env = ['PATH=/bin'];
  spec.process!.args = ['sh', '-c', `(${script}) > /out 2>&1`];
  spec.mounts!.push({ destination: '/out', type: 'bind', source: out, options: ['bind'] });
  spec.linux!.cgroupsPath = `/isola-sec/${process.pid}-${n}`;
  edit(spec, rootfs);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
  const id = `sec${process.pid}-${n}`;
  ids.push(id);
  const status = await runContainer({ id, bundle: dir, root });
  return { status, output: readFileSync(out, 'utf8') };
}

const needs = itNeeds({ root: true, files: ['/bin/busybox'] });

describe('runtime escapes', () => {
  needs('CVE-2024-21626: no host fd leaks into the container and its cwd cannot be outside the root', async () => {
    const { output } = await attack('ls /proc/self/fd; readlink /proc/self/cwd');
    const lines = output.trim().split('\n');
    // 0-2, and 3 is ls's own directory fd: nothing the runtime had open.
    expect(lines.slice(0, -1).map(Number).filter((fd) => fd > 3)).toEqual([]);
    expect(lines.at(-1)).toBe('/');
    // The attack itself: a cwd through a leaked fd. There is none to go through, so create fails.
    for (const fd of [3, 4, 5, 6, 7, 8]) {
      await expect(attack('pwd', (spec) => (spec.process!.cwd = `/proc/self/fd/${fd}`))).rejects.toThrow(/process\.cwd.*(ENOENT|ENOTDIR)/);
    }
  });

  needs('CVE-2021-30465: a symlinked mount destination cannot put the mount outside the rootfs', async () => {
    const hostDir = mkdtempSync(join(work, 'host-'));
    writeFileSync(join(hostDir, 'secret'), 'host file');
    const source = mkdtempSync(join(work, 'volume-'));
    writeFileSync(join(source, 'from-volume'), 'x');
    const { output } = await attack('ls /data', (spec, rootfs) => {
      symlinkSync(hostDir, join(rootfs, 'data'));
      spec.mounts!.push({ destination: '/data', type: 'bind', source, options: ['bind'] });
    });
    expect(output.trim()).toBe('from-volume');
    // The host directory the link named was neither mounted over nor written.
    expect(execFileSync('ls', [hostDir], { encoding: 'utf8' }).trim()).toBe('secret');
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(hostDir);
  });

  needs('CVE-2025-31133: a /dev/null that is a symlink is refused as the source of masks', async () => {
    const before = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    await expect(
      attack('echo pwned > /proc/sysrq-trigger', (spec, rootfs) => {
        spec.mounts = spec.mounts!.filter((m) => !m.destination.startsWith('/dev'));
        symlinkSync('/proc/sys/kernel/core_pattern', join(rootfs, 'dev/null'));
      }),
    ).rejects.toThrow(/open \/dev\/null \(no symlinks\).*ELOOP/);
    expect(readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(before);
  });

  needs('CVE-2019-5736: a process the runtime starts in a container cannot be opened through /proc/PID/exe', async () => {
    // A container watches for a process that joins its pid namespace (as exec does) and tries to open its
    // executable, which before execve is the runtime's own binary (node).
    const shared = mkdtempSync(join(work, 'shared-'));
    const dir = join(work, `b${++n}`);
    const rootfs = join(dir, 'rootfs');
    for (const d of ['bin', 'proc', 'sys', 'dev', 'shared']) mkdirSync(join(rootfs, d), { recursive: true });
    copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
    execFileSync('chmod', ['755', join(rootfs, 'bin/busybox')]);
    execFileSync('chroot', [rootfs, '/bin/busybox', '--install', '-s', '/bin']);
    const spec = defaultSpec();
    spec.process!.terminal = false;
    spec.process!.env = ['PATH=/bin'];
    spec.process!.args = ['sh', '-c', 'until [ -e /shared/go ]; do sleep 0.05; done; for p in /proc/[0-9]*; do if head -c 4 $p/exe > /dev/null 2>&1; then echo "${p#/proc/} readable"; else echo "${p#/proc/} denied"; fi; done > /shared/out.tmp; mv /shared/out.tmp /shared/out'];
    spec.mounts!.push({ destination: '/shared', type: 'bind', source: shared, options: ['bind'] });
    spec.linux!.cgroupsPath = `/isola-sec/${process.pid}-${n}`;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
    const id = `sec${process.pid}-${n}`;
    ids.push(id);
    await runContainer({ id, bundle: dir, root, detach: true });
    const init = Number(readFileSync(join(root, id, 'state.json'), 'utf8').match(/"pid":(\d+)/)![1]);
    const { abi, capabilityMask, close, encodeCapabilitySets, open, pipe2, setns, spawnChild, steps, waitid, write } = await import('@isola/sys');
    // The child drops to the container's capabilities, as exec does just before execve: from then on only
    // PR_SET_DUMPABLE 0 keeps the container's processes (whose capabilities now cover the child's) out.
    const caps = capabilityMask(spec.process!.capabilities!.permitted!);
    const { header, data } = encodeCapabilitySets({ effective: caps, permitted: caps, inheritable: 0n });
    const dropCaps = { syscall: 'capset' as const, args: [header, data], describe: 'capset to the container set' };
    const [syncR, syncW] = pipe2();
    const restore = open('/proc/self/ns/pid_for_children', abi.O_RDONLY);
    const target = open(`/proc/${init}/ns/pid`, abi.O_RDONLY);
    setns(target, abi.CLONE_NEWPID, 'container pid ns');
    const child = spawnChild({ steps: [dropCaps, steps.waitForParentStep(syncR)] });
    setns(restore, abi.CLONE_NEWPID, 'own pid ns');
    close(target);
    close(restore);
    try {
      const nsPid = Number(readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/NSpid:\s+\d+\s+(\d+)/)![1]);
      writeFileSync(join(shared, 'go'), '');
      for (let i = 0; i < 400 && !existsSync(join(shared, 'out')); i++) await new Promise((r) => setTimeout(r, 25));
      const lines = readFileSync(join(shared, 'out'), 'utf8').trim().split('\n');
      const line = lines.find((l) => l.startsWith(`${nsPid} `));
      expect(line).toBeDefined();
      // Without PR_SET_DUMPABLE 0 the runtime's binary would be readable here (and writable once it exits).
      expect(line).toBe(`${nsPid} denied`);
      expect(lines).toContain('1 readable');
    } finally {
      write(syncW, Buffer.from('x'));
      close(syncW);
      close(syncR);
      child.awaitSteps();
      waitid({ pid: child.pid });
    }
  });
});

describe("isola's default profile", () => {
  needs("gives Docker's 14 capabilities and seccomp profile: new namespaces and mounts are refused", async () => {
    const { containerSpec } = await import('../spec/profile.js');
    const profile = containerSpec({ args: ['sh'] });
    const { output, status } = await attack(
      'grep -E "^(CapEff|Seccomp|NoNewPrivs)" /proc/self/status; unshare -n true 2>&1 || echo no-unshare; mount -t tmpfs none /tmp 2>&1 || echo no-mount; echo ok',
      (spec) => {
        spec.process!.capabilities = profile.process!.capabilities;
        spec.linux!.seccomp = profile.linux!.seccomp;
      },
    );
    expect(status).toBe(0);
    // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
    expect(output).toMatch(/CapEff:\s+00000000a80425fb/);
    expect(output).toMatch(/Seccomp:\s+2/);
    expect(output).toMatch(/NoNewPrivs:\s+1/);
    expect(output).toContain('no-unshare');
    expect(output).toContain('no-mount');
    expect(output.trim().endsWith('ok')).toBe(true);
  });
});
