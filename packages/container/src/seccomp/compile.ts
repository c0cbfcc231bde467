// Compiles an OCI LinuxSeccomp to a classic BPF program with the semantics libseccomp gives it under
// runc: the architecture is checked first (an unlisted one is killed, libseccomp's default bad-arch
// action), then the syscall number is found by binary search over ranges, then argument comparisons
// decide between a syscall's rules in order. Like runc's patchbpf stub, numbers above the highest the
// profile names answer ENOSYS, so newer libcs fall back instead of seeing EPERM.
import { IsolaError } from '@isola/errors';
import type { LinuxSeccomp } from '../spec/types.js';
import { ENOSYS, SECCOMP_RET, letsSyscallRun } from './actions.js';
import type { Architecture } from './architectures.js';
import { Assembler, type Condition, type Label } from './assembler.js';
import { MAX_INSTRUCTIONS, SECCOMP_DATA, encode } from './instruction.js';
import { type Comparison, type Profile, type Rule, readProfile } from './rules.js';

export interface CompiledSeccomp {
  /** sock_filter instructions, ready for `steps.seccompStep(filter, flags)`. */
  filter: Uint8Array;
  /** SECCOMP_FILTER_FLAG_* bits for seccomp(SECCOMP_SET_MODE_FILTER). */
  flags: number;
  /** Syscall names no listed architecture knows: skipped, as runc does; the caller may warn. */
  skippedSyscalls: string[];
  /** Listed architectures of other CPU families, which no process on this host can use. */
  skippedArchitectures: string[];
}

/** What a range of syscall numbers leads to: a fixed verdict, or one syscall's rules. */
type Leaf = { kind: 'return'; value: number } | { kind: 'rules'; rules: readonly Rule[]; arch: Architecture };

interface Range {
  first: number;
  leaf: Leaf;
}

const U32_END = 2 ** 32;

export function compileSeccomp(spec: LinuxSeccomp): CompiledSeccomp {
  const profile = readProfile(spec);
  const known = (name: string) => profile.architectures.some((arch) => arch.syscalls.has(name));
  const skippedSyscalls = [...new Set(profile.rules.flatMap((rule) => rule.names.filter((name) => !known(name))))];

  const asm = new Assembler();
  // One section per AUDIT_ARCH value; x86_64 and x32 share one and split it by syscall number.
  const audits = [...new Set(profile.architectures.map((arch) => arch.audit))];
  const sections = audits.map(() => asm.label());
  asm.load(SECCOMP_DATA.arch);
  audits.forEach((audit, i) => {
    const next = asm.label();
    asm.jump('jeq', audit, sections[i], next);
    asm.place(next);
  });
  asm.ret(SECCOMP_RET.KILL_THREAD); // an unlisted architecture
  audits.forEach((audit, i) => {
    asm.place(sections[i]);
    asm.load(SECCOMP_DATA.nr);
    const abis = profile.architectures.filter((arch) => arch.audit === audit);
    search(asm, merge(cover(profile, abis)), profile.defaultAction);
  });

  const program = asm.assemble();
  if (program.length > MAX_INSTRUCTIONS) {
    throw new IsolaError('ESECCOMP_TOO_LONG', `linux.seccomp compiles to ${program.length} BPF instructions; the kernel takes at most ${MAX_INSTRUCTIONS}`, {
      details: { instructions: program.length },
    });
  }
  return { filter: encode(program), flags: profile.flags, skippedSyscalls, skippedArchitectures: [...profile.foreignArchitectures] };
}

/**
 * The ranges covering one ABI's numbers, [arch.first, arch.end): each syscall with rules, the default
 * action between them, and ENOSYS past the highest number the profile names (runc's stub, which it
 * leaves out when the default already lets syscalls run).
 */
function ranges(profile: Profile, arch: Architecture): Range[] {
  const bySyscall = new Map<number, Rule[]>();
  let highest = -1;
  for (const rule of profile.rules) {
    for (const name of rule.names) {
      const nr = arch.syscalls.get(name);
      if (nr === undefined) continue;
      highest = Math.max(highest, nr);
      // libseccomp rejects a rule whose action is the default one, and runc skips it.
      if (rule.action === profile.defaultAction) continue;
      const rules = bySyscall.get(nr) ?? [];
      if (!rules.includes(rule)) rules.push(rule);
      bySyscall.set(nr, rules);
    }
  }
  const fallback: Leaf = { kind: 'return', value: profile.defaultAction };
  const result: Range[] = [{ first: arch.first, leaf: fallback }];
  for (const nr of [...bySyscall.keys()].sort((a, b) => a - b)) {
    const rules = bySyscall.get(nr) ?? [];
    const leaf: Leaf = rules[0].comparisons.length === 0 ? { kind: 'return', value: rules[0].action } : { kind: 'rules', rules, arch };
    result.push({ first: nr, leaf }, { first: nr + 1, leaf: fallback });
  }
  if (highest >= 0 && !letsSyscallRun(profile.defaultAction)) {
    result.push({ first: highest + 1, leaf: { kind: 'return', value: (SECCOMP_RET.ERRNO | ENOSYS) >>> 0 } });
  }
  // A syscall at the very first number, or right after another, leaves an empty range to drop.
  return result.filter((range, i) => range.first < arch.end && range.first !== result[i + 1]?.first);
}

/** Joins neighbouring ranges with the same fixed verdict, so a run of allowed syscalls costs one test. */
function merge(list: Range[]): Range[] {
  const merged: Range[] = [];
  for (const range of list) {
    const last = merged.at(-1);
    if (last?.leaf.kind === 'return' && range.leaf.kind === 'return' && last.leaf.value === range.leaf.value) continue;
    merged.push(range);
  }
  return merged;
}

/**
 * Ranges over every 32-bit number for one AUDIT_ARCH: the listed ABIs' own, and the bad-arch verdict
 * for the half of an unlisted ABI (x32 numbers when only x86_64 is listed), as libseccomp does.
 */
function cover(profile: Profile, abis: readonly Architecture[]): Range[] {
  const badArch: Leaf = { kind: 'return', value: SECCOMP_RET.KILL_THREAD };
  const list: Range[] = [];
  let cursor = 0;
  for (const arch of [...abis].sort((a, b) => a.first - b.first)) {
    if (arch.first > cursor) list.push({ first: cursor, leaf: badArch });
    list.push(...ranges(profile, arch));
    cursor = arch.end;
  }
  if (cursor < U32_END) list.push({ first: cursor, leaf: badArch });
  return list;
}

/** Binary search on the syscall number in A, down to one range's leaf. */
function search(asm: Assembler, list: readonly Range[], defaultAction: number): void {
  const emit = (from: number, to: number): void => {
    if (to - from === 1) {
      decide(asm, list[from].leaf, defaultAction);
      return;
    }
    const mid = (from + to) >> 1;
    const low = asm.label();
    const high = asm.label();
    asm.jump('jge', list[mid].first, high, low);
    asm.place(low);
    emit(from, mid);
    asm.place(high);
    emit(mid, to);
  };
  emit(0, list.length);
}

/** One syscall's rules in order: the first whose comparisons all hold decides, else the default. */
function decide(asm: Assembler, target: Leaf, defaultAction: number): void {
  if (target.kind === 'return') {
    asm.ret(target.value);
    return;
  }
  for (const rule of target.rules) {
    const nextRule = asm.label();
    for (const comparison of rule.comparisons) {
      const holds = asm.label();
      compare(asm, comparison, target.arch.narrow, holds, nextRule);
      asm.place(holds);
    }
    asm.ret(rule.action);
    if (rule.comparisons.length === 0) return; // later rules cannot be reached
    asm.place(nextRule);
  }
  asm.ret(defaultAction);
}

/** The 32-bit half of an argument at `offset`, and the same halves of the spec's two values. */
interface Half {
  offset: number;
  value: number;
  valueTwo: number;
}

function halves({ index, value, valueTwo }: Comparison, narrow: boolean): Half[] {
  const low = { offset: SECCOMP_DATA.argLow(index), value: Number(value & 0xffffffffn), valueTwo: Number(valueTwo & 0xffffffffn) };
  if (narrow) return [low];
  return [{ offset: SECCOMP_DATA.argHigh(index), value: Number(value >> 32n), valueTwo: Number(valueTwo >> 32n) }, low];
}

/**
 * Jumps to `ifTrue` when the 64-bit argument satisfies the comparison, else to `ifFalse`. BPF reads 32
 * bits at a time, high half first: it decides an ordering unless the halves are equal, then the low
 * half does. On 32-bit ABIs only the low half is compared.
 */
function compare(asm: Assembler, comparison: Comparison, narrow: boolean, ifTrue: Label, ifFalse: Label): void {
  const { op } = comparison;
  const parts = halves(comparison, narrow);
  const last = parts.length - 1;
  if (op === 'SCMP_CMP_EQ' || op === 'SCMP_CMP_NE' || op === 'SCMP_CMP_MASKED_EQ') {
    // Equal when every half is; any differing half settles it. MASKED_EQ's value is the mask.
    const [equal, differ] = op === 'SCMP_CMP_NE' ? [ifFalse, ifTrue] : [ifTrue, ifFalse];
    parts.forEach((part, i) => {
      asm.load(part.offset);
      if (op === 'SCMP_CMP_MASKED_EQ') asm.and(part.value);
      const next = i === last ? equal : asm.label();
      asm.jump('jeq', op === 'SCMP_CMP_MASKED_EQ' ? part.valueTwo : part.value, next, differ);
      if (i !== last) asm.place(next);
    });
    return;
  }
  // A < v is not (A >= v), and A <= v is not (A > v).
  const test: Condition = op === 'SCMP_CMP_GT' || op === 'SCMP_CMP_LE' ? 'jgt' : 'jge';
  const [above, below] = op === 'SCMP_CMP_GT' || op === 'SCMP_CMP_GE' ? [ifTrue, ifFalse] : [ifFalse, ifTrue];
  parts.forEach((part, i) => {
    asm.load(part.offset);
    if (i === last) {
      asm.jump(test, part.value, above, below);
      return;
    }
    const notAbove = asm.label();
    const equal = asm.label();
    asm.jump('jgt', part.value, above, notAbove);
    asm.place(notAbove);
    asm.jump('jeq', part.value, equal, below);
    asm.place(equal);
  });
}
