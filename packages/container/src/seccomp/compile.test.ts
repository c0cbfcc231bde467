// compileSeccomp checked through the BPF interpreter: fixed cases for each rule of the semantics, and
// generated profiles compared verdict by verdict with a direct evaluation of the spec.
import { isIsolaError } from '@isola/errors';
import { describe, expect, it } from 'vitest';
import type { LinuxSeccomp, SeccompOperator } from '../spec/types.js';
import { ENOSYS, SECCOMP_RET, actionValue } from './actions.js';
import { ARCHITECTURES, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT, type ArchitectureName } from './architectures.js';
import { type SeccompData, runFilter } from './bpf.js';
import { compileSeccomp } from './compile.js';
import { BPF, decode } from './instruction.js';

const X64 = ARCHITECTURES.SCMP_ARCH_X86_64.syscalls;
const I386 = ARCHITECTURES.SCMP_ARCH_X86.syscalls;
const X32 = ARCHITECTURES.SCMP_ARCH_X32.syscalls;
const nr = (name: string) => X64.get(name) ?? -1;
const AUDIT_ARCH_AARCH64 = 0xc00000b7;
const ALLOW = SECCOMP_RET.ALLOW;
const errno = (e: number) => (SECCOMP_RET.ERRNO | e) >>> 0;
const x64 = (name: string, args: Array<number | bigint> = []): SeccompData => ({ nr: nr(name), arch: AUDIT_ARCH_X86_64, args });

function verdict(spec: LinuxSeccomp, data: SeccompData): number {
  return runFilter(compileSeccomp(spec).filter, data);
}

function fieldOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    if (isIsolaError(error)) return { code: error.code, field: error.details.field };
    throw error;
  }
  return undefined;
}

describe('compileSeccomp', () => {
  it('applies rules by syscall and the default to the rest', () => {
    const spec: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
        { names: ['mount'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        { names: ['reboot'], action: 'SCMP_ACT_KILL_PROCESS' },
        { names: ['ptrace'], action: 'SCMP_ACT_TRACE', errnoRet: 7 },
        { names: ['getpid'], action: 'SCMP_ACT_LOG' },
        { names: ['kill'], action: 'SCMP_ACT_TRAP' },
        { names: ['tkill'], action: 'SCMP_ACT_KILL' },
      ],
    };
    const expected: Record<string, number> = {
      read: ALLOW, write: ALLOW, mount: errno(13), reboot: SECCOMP_RET.KILL_PROCESS, ptrace: SECCOMP_RET.TRACE | 7,
      getpid: SECCOMP_RET.LOG, kill: SECCOMP_RET.TRAP, tkill: SECCOMP_RET.KILL_THREAD, open: errno(1), close: errno(1),
    };
    for (const [name, value] of Object.entries(expected)) expect(verdict(spec, x64(name)), name).toBe(value >>> 0);
    expect(verdict({ ...spec, defaultErrnoRet: 22 }, x64('open'))).toBe(errno(22));
  });

  it('kills an unlisted architecture, and x32 calls unless x32 is listed', () => {
    const spec: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'] };
    expect(verdict(spec, x64('read'))).toBe(ALLOW);
    expect(verdict(spec, { nr: 3, arch: AUDIT_ARCH_I386 })).toBe(SECCOMP_RET.KILL_THREAD);
    expect(verdict(spec, { nr: 0, arch: AUDIT_ARCH_AARCH64 })).toBe(SECCOMP_RET.KILL_THREAD);
    expect(verdict(spec, { nr: X32_SYSCALL_BIT | 1, arch: AUDIT_ARCH_X86_64 })).toBe(SECCOMP_RET.KILL_THREAD);
    expect(verdict({ ...spec, architectures: undefined }, { nr: 3, arch: AUDIT_ARCH_I386 })).toBe(SECCOMP_RET.KILL_THREAD);
    // Only x32: 64-bit calls on the same AUDIT_ARCH are the foreign ones.
    const x32Only: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X32'] };
    expect(verdict(x32Only, { nr: X32_SYSCALL_BIT | 1, arch: AUDIT_ARCH_X86_64 })).toBe(ALLOW);
    expect(verdict(x32Only, x64('write'))).toBe(SECCOMP_RET.KILL_THREAD);
  });

  it('resolves a name per ABI: x86_64, i386 and x32 numbers differ', () => {
    const spec: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [{ names: ['ioctl', 'socketcall'], action: 'SCMP_ACT_ERRNO' }],
    };
    expect(verdict(spec, x64('ioctl'))).toBe(errno(1));
    expect(verdict(spec, { nr: I386.get('ioctl') ?? -1, arch: AUDIT_ARCH_I386 })).toBe(errno(1));
    expect(verdict(spec, { nr: I386.get('socketcall') ?? -1, arch: AUDIT_ARCH_I386 })).toBe(errno(1));
    expect(verdict(spec, { nr: X32.get('ioctl') ?? -1, arch: AUDIT_ARCH_X86_64 })).toBe(errno(1));
    // x86_64's ioctl number (16) is another syscall on i386 and, with the x32 bit, a removed x32 one.
    expect(verdict(spec, { nr: 16, arch: AUDIT_ARCH_I386 })).toBe(ALLOW);
    expect(verdict(spec, { nr: X32_SYSCALL_BIT | 16, arch: AUDIT_ARCH_X86_64 })).toBe(ALLOW);
    expect(compileSeccomp(spec).skippedSyscalls).toEqual([]);
  });

  it('answers ENOSYS above the highest syscall the profile names, as runc does', () => {
    const spec: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'openat'], action: 'SCMP_ACT_ALLOW' }] };
    expect(verdict(spec, x64('close'))).toBe(errno(1)); // below openat (257)
    expect(verdict(spec, x64('openat2'))).toBe(errno(ENOSYS));
    expect(verdict(spec, { nr: 0x3fffffff, arch: AUDIT_ARCH_X86_64 })).toBe(errno(ENOSYS));
    // Not when the default lets syscalls run anyway.
    expect(verdict({ ...spec, defaultAction: 'SCMP_ACT_LOG' }, x64('openat2'))).toBe(SECCOMP_RET.LOG);
  });

  it('tries a syscall’s rules in order; comparisons within a rule must all hold', () => {
    const spec: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 0, value: 8, op: 'SCMP_CMP_GE' }] },
        { names: ['mmap'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 4096, op: 'SCMP_CMP_LE' }, { index: 2, value: 4, op: 'SCMP_CMP_MASKED_EQ', valueTwo: 0 }] },
        { names: ['mmap'], action: 'SCMP_ACT_TRAP' },
        { names: ['mmap'], action: 'SCMP_ACT_ALLOW' },
      ],
    };
    expect(verdict(spec, x64('personality', [8]))).toBe(ALLOW);
    expect(verdict(spec, x64('personality', [9]))).toBe(errno(13));
    expect(verdict(spec, x64('personality', [7]))).toBe(errno(1));
    expect(verdict(spec, x64('mmap', [0, 4096, 3]))).toBe(ALLOW);
    expect(verdict(spec, x64('mmap', [0, 4096, 7]))).toBe(SECCOMP_RET.TRAP); // PROT_EXEC set
    expect(verdict(spec, x64('mmap', [0, 4097, 3]))).toBe(SECCOMP_RET.TRAP);
  });

  it('compares all 64 bits on x86_64 and the low 32 on i386, as libseccomp does', () => {
    const big = 0x1_0000_0005;
    const rule = (op: SeccompOperator) => ({
      defaultAction: 'SCMP_ACT_ERRNO' as const,
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
      syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ALLOW' as const, args: [{ index: 0, value: big, op }] }],
    });
    const at = (op: SeccompOperator, arg: number | bigint) => verdict(rule(op), x64('personality', [arg])) === ALLOW;
    expect([0x1_0000_0004, 0x1_0000_0005, 0x1_0000_0006, 5, 0x2_0000_0000].map((a) => at('SCMP_CMP_GT', a))).toEqual([false, false, true, false, true]);
    expect([0x1_0000_0004, 0x1_0000_0005, 0x0_ffff_ffff].map((a) => at('SCMP_CMP_LT', a))).toEqual([true, false, true]);
    expect([5, 0x1_0000_0005].map((a) => at('SCMP_CMP_EQ', a))).toEqual([false, true]);
    const i386 = (arg: number) => verdict(rule('SCMP_CMP_EQ'), { nr: I386.get('personality') ?? -1, arch: AUDIT_ARCH_I386, args: [arg] });
    expect(i386(5)).toBe(ALLOW);
  });

  it('skips names no listed architecture knows, and reports them', () => {
    const spec: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'],
      syscalls: [{ names: ['read', 'no_such_call', 'socketcall', 'read'], action: 'SCMP_ACT_ALLOW' }],
    };
    const compiled = compileSeccomp(spec);
    expect(compiled.skippedSyscalls).toEqual(['no_such_call', 'socketcall']);
    expect(compiled.skippedArchitectures).toEqual(['SCMP_ARCH_AARCH64']);
    expect(runFilter(compiled.filter, x64('read'))).toBe(ALLOW);
  });

  it('maps flags to SECCOMP_FILTER_FLAG_* bits', () => {
    const flags = ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'];
    expect(compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags }).flags).toBe(7);
    expect(compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }).flags).toBe(0);
  });

  it('names the offending field of an invalid profile', () => {
    const base: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
    const bad = (spec: unknown) => fieldOf(() => compileSeccomp(spec as LinuxSeccomp));
    const rule = (extra: object) => ({ ...base, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO' }, { names: ['write'], action: 'SCMP_ACT_ERRNO', ...extra }] });
    expect(bad({ defaultAction: 'SCMP_ACT_MAYBE' })).toEqual({ code: 'ESECCOMP_CONFIG', field: 'linux.seccomp.defaultAction' });
    expect(bad(rule({ action: 'ALLOW' }))).toEqual({ code: 'ESECCOMP_CONFIG', field: 'linux.seccomp.syscalls[1].action' });
    expect(bad(rule({ names: [] }))).toEqual({ code: 'ESECCOMP_CONFIG', field: 'linux.seccomp.syscalls[1].names' });
    expect(bad(rule({ names: ['read', ''] }))).toEqual({ code: 'ESECCOMP_CONFIG', field: 'linux.seccomp.syscalls[1].names[1]' });
    expect(bad(rule({ args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }))).toEqual({ code: 'ESECCOMP_CONFIG', field: 'linux.seccomp.syscalls[1].args[0].index' });
    expect(bad(rule({ args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }, { index: 1, value: 0, op: 'EQ' }] }))).toEqual({
      code: 'ESECCOMP_CONFIG', field: 'linux.seccomp.syscalls[1].args[1].op',
    });
    expect(bad(rule({ args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }] }))).toEqual({ code: 'ESECCOMP_CONFIG', field: 'linux.seccomp.syscalls[1].args[0].value' });
    expect(bad(rule({ errnoRet: 1.5 }))).toEqual({ code: 'ESECCOMP_CONFIG', field: 'linux.seccomp.syscalls[1].errnoRet' });
    expect(bad({ ...base, architectures: ['SCMP_ARCH_X86_64', 'x86'] })).toEqual({ code: 'ESECCOMP_CONFIG', field: 'linux.seccomp.architectures[1]' });
    expect(bad({ ...base, flags: ['SECCOMP_FILTER_FLAG_NEW_LISTENER'] })).toEqual({ code: 'ESECCOMP_CONFIG', field: 'linux.seccomp.flags[0]' });
    expect(bad(rule({ action: 'SCMP_ACT_NOTIFY' }))).toEqual({ code: 'ESECCOMP_UNSUPPORTED', field: 'linux.seccomp.syscalls[1].action' });
    expect(() => compileSeccomp(rule({ action: 'SCMP_ACT_NOTIFY' }) as LinuxSeccomp)).toThrow(/SCMP_ACT_NOTIFY needs a seccomp listener/);
  });
});

/** A seeded generator, so a failing case can be replayed. */
function random(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return { int: (n: number) => Math.floor(next() * n), pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] };
}

const OPS: SeccompOperator[] = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];
const EDGES = [0n, 1n, 7n, 0xffn, 0x7fffffffn, 0xffffffffn, 0x1_0000_0000n, 0x1_0000_0001n, 0xffff_ffff_0000_0000n, (1n << 63n), (1n << 64n) - 1n];

/** The spec's meaning, evaluated directly: the oracle the compiled filter must agree with. */
function evaluate(spec: LinuxSeccomp, data: SeccompData): number {
  const listed = (spec.architectures?.length ? spec.architectures : ['SCMP_ARCH_X86_64']) as ArchitectureName[];
  const abi: ArchitectureName | undefined =
    data.arch === AUDIT_ARCH_I386 ? 'SCMP_ARCH_X86' : data.arch === AUDIT_ARCH_X86_64 ? (data.nr >= X32_SYSCALL_BIT ? 'SCMP_ARCH_X32' : 'SCMP_ARCH_X86_64') : undefined;
  if (!abi || !listed.includes(abi)) return SECCOMP_RET.KILL_THREAD;
  const { syscalls, narrow } = ARCHITECTURES[abi];
  const fallback = actionValue(spec.defaultAction as 'SCMP_ACT_ERRNO', spec.defaultErrnoRet);
  const rules = spec.syscalls ?? [];
  const holds = (arg: { index: number; value: number; valueTwo?: number; op: SeccompOperator }): boolean => {
    const cut = (v: bigint) => (narrow ? v & 0xffffffffn : v);
    const a = cut(BigInt.asUintN(64, BigInt(data.args?.[arg.index] ?? 0)));
    const v = cut(BigInt(arg.value));
    switch (arg.op) {
      case 'SCMP_CMP_NE': return a !== v;
      case 'SCMP_CMP_LT': return a < v;
      case 'SCMP_CMP_LE': return a <= v;
      case 'SCMP_CMP_EQ': return a === v;
      case 'SCMP_CMP_GE': return a >= v;
      case 'SCMP_CMP_GT': return a > v;
      case 'SCMP_CMP_MASKED_EQ': return (a & v) === cut(BigInt(arg.valueTwo ?? 0));
    }
  };
  for (const rule of rules) {
    const action = actionValue(rule.action as 'SCMP_ACT_ALLOW', rule.errnoRet);
    if (action === fallback || !rule.names.some((name) => syscalls.get(name) === data.nr)) continue;
    if ((rule.args ?? []).every(holds)) return action;
  }
  const highest = Math.max(-1, ...rules.flatMap((rule) => rule.names.map((name) => syscalls.get(name) ?? -1)));
  return highest >= 0 && data.nr > highest && fallback !== ALLOW ? errno(ENOSYS) : fallback;
}

function generatedProfile(seed: number, syscallCount: number, rulesPerSyscall: number): LinuxSeccomp {
  const r = random(seed);
  const names = [...X64.keys()].filter((_, i) => i % Math.ceil(X64.size / syscallCount) === 0).slice(0, syscallCount);
  const actions = ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRAP', 'SCMP_ACT_LOG', 'SCMP_ACT_KILL_PROCESS'] as const;
  const syscalls: NonNullable<LinuxSeccomp['syscalls']> = [];
  for (const name of names) {
    for (let i = 0; i < rulesPerSyscall; i++) {
      const args = Array.from({ length: r.int(3) }, () => ({
        index: r.int(6), op: r.pick(OPS), value: Number(r.pick(EDGES.slice(0, 8))), valueTwo: Number(r.pick(EDGES.slice(0, 8))),
      }));
      syscalls.push({ names: [name], action: r.pick(actions), errnoRet: r.int(100), args });
    }
  }
  return { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls };
}

function probes(spec: LinuxSeccomp, seed: number, count: number): SeccompData[] {
  const r = random(seed);
  const values = (spec.syscalls ?? []).flatMap((rule) => (rule.args ?? []).map((arg) => BigInt(arg.value)));
  const argument = () => {
    const base = r.pick([...EDGES, ...values]);
    return BigInt.asUintN(64, base + BigInt(r.int(3) - 1) + (r.int(4) === 0 ? 1n << 32n : 0n));
  };
  const names = (spec.syscalls ?? []).flatMap((rule) => rule.names);
  return Array.from({ length: count }, () => {
    const abi = r.pick(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'] as const);
    const known = ARCHITECTURES[abi].syscalls.get(r.pick(names));
    const nr = r.int(5) === 0 || known === undefined ? (abi === 'SCMP_ARCH_X32' ? X32_SYSCALL_BIT : 0) + r.int(600) : known;
    const arch = r.int(20) === 0 ? AUDIT_ARCH_AARCH64 : abi === 'SCMP_ARCH_X86' ? AUDIT_ARCH_I386 : AUDIT_ARCH_X86_64;
    return { nr, arch, args: Array.from({ length: 6 }, argument) };
  });
}

describe('compileSeccomp against a direct evaluation of the spec', () => {
  it('agrees on generated profiles with 64-bit edge values', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 20; seed++) {
      const spec = generatedProfile(seed, 8, 3);
      const { filter } = compileSeccomp(spec);
      for (const data of probes(spec, seed, 400)) {
        const expected = evaluate(spec, data);
        seen.add(expected >>> 16);
        expect(runFilter(filter, data), JSON.stringify({ seed, data }, (_, v) => (typeof v === 'bigint' ? `${v}` : v))).toBe(expected);
      }
    }
    // The probes reach every kind of verdict, not just the default.
    expect([...seen].sort()).toEqual([SECCOMP_RET.KILL_THREAD, SECCOMP_RET.TRAP, SECCOMP_RET.ERRNO, SECCOMP_RET.LOG, SECCOMP_RET.ALLOW, SECCOMP_RET.KILL_PROCESS].map((v) => v >>> 16).sort());
  });

  it('reaches far targets through ja trampolines in a large profile', () => {
    const spec = generatedProfile(99, 60, 4);
    const { filter } = compileSeccomp(spec);
    const program = decode(filter);
    expect(program.length).toBeGreaterThan(1000);
    expect(program.length).toBeLessThanOrEqual(4096);
    expect(program.some((insn) => insn.code === BPF.JMP_JA)).toBe(true);
    for (const data of probes(spec, 7, 3000)) expect(runFilter(filter, data)).toBe(evaluate(spec, data));
  });

  it('refuses a profile longer than the kernel accepts', () => {
    expect(fieldOf(() => compileSeccomp(generatedProfile(5, 300, 8)))).toEqual({ code: 'ESECCOMP_TOO_LONG', field: undefined });
  });
});
