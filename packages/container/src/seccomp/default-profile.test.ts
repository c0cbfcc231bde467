// Docker's default profile resolved for a capability set, and what it lets a container do, checked
// through the BPF interpreter.
import { describe, expect, it } from 'vitest';
import { ENOSYS, SECCOMP_RET } from './actions.js';
import { ARCHITECTURES, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64 } from './architectures.js';
import { runFilter } from './bpf.js';
import { compileSeccomp } from './compile.js';
import { defaultProfile } from './default-profile.js';

/** The 14 capabilities Docker gives a container by default. */
const DOCKER_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

const CLONE_NEWUSER = 0x10000000;
const SIGCHLD = 17;
const EPERM = (SECCOMP_RET.ERRNO | 1) >>> 0;
const ALLOW = SECCOMP_RET.ALLOW;

function checker(capabilities: string[]) {
  const { filter, skippedSyscalls } = compileSeccomp(defaultProfile(capabilities));
  const x64 = ARCHITECTURES.SCMP_ARCH_X86_64.syscalls;
  const call = (name: string, ...args: number[]) => runFilter(filter, { nr: x64.get(name) ?? -1, arch: AUDIT_ARCH_X86_64, args });
  return { call, filter, skippedSyscalls };
}

describe('defaultProfile', () => {
  it('resolves Docker’s includes and excludes for the default capabilities on x86_64', () => {
    const profile = defaultProfile(DOCKER_CAPABILITIES);
    const named = (name: string) => (profile.syscalls ?? []).filter((rule) => rule.names.includes(name));
    expect(profile).toMatchObject({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'] });
    expect(named('mount')).toEqual([]);
    expect(named('chroot')).toHaveLength(1); // CAP_SYS_CHROOT is among the defaults
    expect(named('arch_prctl')).toHaveLength(1);
    expect(named('s390_runtime_instr')).toEqual([]);
    expect(named('clone')).toEqual([{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, op: 'SCMP_CMP_MASKED_EQ' }] }]);
    expect(named('clone3')).toEqual([{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
    expect(profile.syscalls?.some((rule) => 'includes' in rule || 'excludes' in rule)).toBe(false);
  });

  it('opens namespace and mount syscalls with CAP_SYS_ADMIN, however the capability is spelled', () => {
    const profile = defaultProfile([...DOCKER_CAPABILITIES, 'sys_admin']);
    const named = (name: string) => (profile.syscalls ?? []).filter((rule) => rule.names.includes(name));
    expect(named('mount')).toHaveLength(1);
    expect(named('clone')).toEqual([expect.objectContaining({ action: 'SCMP_ACT_ALLOW' })]);
    expect(named('clone')[0].args).toBeUndefined();
    expect(named('clone3')[0].action).toBe('SCMP_ACT_ALLOW');
  });

  it('compiles to a filter that denies what namespaces do not isolate', () => {
    const { call, filter, skippedSyscalls } = checker(DOCKER_CAPABILITIES);
    // recv and send exist on other architectures only.
    expect(skippedSyscalls).toEqual(['recv', 'send']);
    expect(filter.byteLength / 8).toBeLessThan(1000);
    for (const name of ['read', 'write', 'openat', 'execve', 'exit_group', 'rt_sigreturn', 'chroot', 'ptrace', 'io_uring_setup']) expect(call(name), name).toBe(ALLOW);
    for (const name of ['mount', 'umount2', 'unshare', 'setns', 'reboot', 'init_module', 'keyctl', 'add_key', 'bpf', 'kexec_load', 'open_by_handle_at']) {
      expect(call(name), name).toBe(EPERM);
    }
    expect(call('clone', SIGCHLD)).toBe(ALLOW);
    expect(call('clone', SIGCHLD | CLONE_NEWUSER)).toBe(EPERM);
    expect(call('clone3')).toBe((SECCOMP_RET.ERRNO | ENOSYS) >>> 0);
    expect(call('socket', 2 /* AF_INET */)).toBe(ALLOW);
    expect(call('socket', 40 /* AF_VSOCK */)).toBe(EPERM);
    expect(call('personality', 0xffffffff)).toBe(ALLOW);
    expect(call('personality', 0x0040000 /* ADDR_NO_RANDOMIZE */)).toBe(EPERM);
    // Syscalls newer than any the profile names: ENOSYS, so a libc falls back rather than fail.
    expect(runFilter(filter, { nr: 460, arch: AUDIT_ARCH_X86_64 })).toBe((SECCOMP_RET.ERRNO | ENOSYS) >>> 0);
    const i386 = ARCHITECTURES.SCMP_ARCH_X86.syscalls;
    expect(runFilter(filter, { nr: i386.get('socketcall') ?? -1, arch: AUDIT_ARCH_I386 })).toBe(ALLOW);
    expect(runFilter(filter, { nr: i386.get('mount') ?? -1, arch: AUDIT_ARCH_I386 })).toBe(EPERM);
  });

  it('allows mount and unshare once the container holds CAP_SYS_ADMIN', () => {
    const { call } = checker([...DOCKER_CAPABILITIES, 'CAP_SYS_ADMIN']);
    expect([call('mount'), call('unshare'), call('clone', CLONE_NEWUSER), call('clone3')]).toEqual([ALLOW, ALLOW, ALLOW, ALLOW]);
  });
});
