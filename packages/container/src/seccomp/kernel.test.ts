// Compiled filters under the real kernel: a child started with no JavaScript in it installs the filter
// and execs busybox, whose shell reports what it could and could not do.
import { SpawnError, steps } from '@isola/sys';
import { runCaptured } from '@isola/sys/testing';
import { describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import type { LinuxSeccomp } from '../spec/types.js';
import { ARCHITECTURES } from './architectures.js';
import { compileSeccomp } from './compile.js';
import { defaultProfile } from './default-profile.js';
import { BPF, decode } from './instruction.js';

const PR_SET_NO_NEW_PRIVS = 38;
const CLONE_NEWNS = 0x00020000;
const MS_REC = 0x4000;
const MS_PRIVATE = 0x40000;

/**
 * Runs `script` under the profile in a private mount namespace (so a mount the filter failed to stop
 * could not reach the host), with stdout and stderr on a pipe.
 */
function runUnder(spec: LinuxSeccomp, script: string) {
  const { filter, flags } = compileSeccomp(spec);
  return runCaptured(
    [
      steps.prctlStep(PR_SET_NO_NEW_PRIVS, 1),
      steps.seccompStep(filter, flags),
      steps.execveStep('/bin/busybox', ['sh', '-c', script], ['PATH=/bin:/usr/bin']),
    ],
    { namespaces: CLONE_NEWNS, stderr: true, before: [steps.mountStep(null, '/', null, MS_REC | MS_PRIVATE)] },
  );
}

const itRuns = itNeeds({ root: true, files: ['/bin/busybox'] });

describe('seccomp filters in the kernel', () => {
  itRuns('the default profile lets a shell work and stops unshare and mount with EPERM', () => {
    const script = [
      'echo hello > /dev/null && ls / > /dev/null && echo "work=ok"',
      'x=$(echo sub; true) && echo "subshell=$x"',
      'unshare -U true; echo "unshare=$?"',
      'mount -t tmpfs none /mnt; echo "mount=$?"',
      'grep "^Seccomp:" /proc/self/status',
    ].join('\n');
    const { output, state } = runUnder(defaultProfile(['CAP_CHOWN', 'CAP_SETUID', 'CAP_SETGID', 'CAP_KILL']), script);
    expect(output).toMatch(/^work=ok$/m);
    expect(output).toMatch(/^subshell=sub$/m);
    expect(output).toMatch(/unshare.*Operation not permitted\nunshare=1\n/);
    // busybox words mount's EPERM as "permission denied (are you root?)", though it runs as root here.
    expect(output).toMatch(/mount: permission denied \(are you root\?\)\nmount=1\n/);
    expect(output).toMatch(/^Seccomp:\s+2$/m);
    expect(state).toMatchObject({ kind: 'exited', status: 0 });
  });

  itRuns('an argument comparison decides between allowing and denying personality()', () => {
    const spec: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] }],
    };
    // linux32 asks for PER_LINUX32 (8), linux64 for PER_LINUX (0).
    const { output } = runUnder(spec, 'linux64 true; echo "linux64=$?"; linux32 true; echo "linux32=$?"');
    expect(output).toMatch(/^linux64=0$/m);
    expect(output).toMatch(/Permission denied\nlinux32=1\n/);
  });

  itRuns('the kernel accepts a long filter with ja trampolines and runs it as compiled', () => {
    // Every syscall is allowed after a rule that cannot match (arg0 is never 0xdeadbeef00000000 here),
    // so the program is long while a shell still runs under it.
    const names = [...ARCHITECTURES.SCMP_ARCH_X86_64.syscalls.keys()];
    const spec: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        ...names.slice(0, 120).map((name) => ({
          names: [name],
          action: 'SCMP_ACT_KILL_PROCESS' as const,
          args: [{ index: 0, value: 0xdeadbeef00000000, op: 'SCMP_CMP_EQ' as const }, { index: 1, value: 1, op: 'SCMP_CMP_GE' as const }],
        })),
        { names, action: 'SCMP_ACT_ALLOW' },
        { names: ['getpid'], action: 'SCMP_ACT_KILL' }, // never reached: the first matching rule decides
      ],
    };
    const program = decode(compileSeccomp(spec).filter);
    expect(program.length).toBeGreaterThan(1000);
    expect(program.some((insn) => insn.code === BPF.JMP_JA)).toBe(true);
    const { output, state } = runUnder(spec, 'for i in 1 2 3; do echo "$i" | cat; done; echo $$ > /dev/null; echo done');
    expect(output).toBe('1\n2\n3\ndone\n');
    expect(state).toMatchObject({ kind: 'exited', status: 0 });
  });

  itRuns('a denied execve is reported as the failing step, with the errno the filter chose', () => {
    const spec: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['execve'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] };
    expect(() => runUnder(spec, 'true')).toThrow(SpawnError);
    expect(() => runUnder(spec, 'true')).toThrow(/execve\("\/bin\/busybox"\): EACCES/);
  });
});
