// Checks a LinuxSeccomp from config.json and turns it into the compiler's model: action values,
// architectures, flags and 64-bit comparisons. Every rejection names the field, as in
// `linux.seccomp.syscalls[3].args[0].op`, because that is what a user has to go and fix.
import { IsolaError } from '@isola/errors';
import type { LinuxSeccomp, SeccompAction, SeccompOperator } from '../spec/types.js';
import { SECCOMP_ACTIONS, actionValue } from './actions.js';
import { ARCHITECTURES, type Architecture, isArchitectureName } from './architectures.js';

export interface Comparison {
  index: number;
  op: SeccompOperator;
  /** For SCMP_CMP_MASKED_EQ the mask; otherwise the value compared with. */
  value: bigint;
  /** For SCMP_CMP_MASKED_EQ the value the masked argument must equal. */
  valueTwo: bigint;
}

export interface Rule {
  names: readonly string[];
  action: number;
  /** All must hold (AND); a syscall's rules are tried in order and the first that matches decides. */
  comparisons: readonly Comparison[];
}

export interface Profile {
  defaultAction: number;
  architectures: readonly Architecture[];
  /** Listed architectures of other CPU families: no process on this host can use them. */
  foreignArchitectures: readonly string[];
  flags: number;
  rules: readonly Rule[];
}

export const SECCOMP_OPERATORS: readonly SeccompOperator[] = [
  'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ',
];

/** SECCOMP_FILTER_FLAG_* values for the spec's flag names. */
export const SECCOMP_FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
};

/** The architectures runc accepts that are not x86: valid in a profile, irrelevant on this host. */
const FOREIGN_ARCHITECTURES = new Set([
  'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_RISCV64',
  'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_LOONGARCH64',
]);

const ROOT = 'linux.seccomp';
const U64_MAX = (1n << 64n) - 1n;

function invalid(field: string, problem: string, value: unknown): IsolaError {
  return new IsolaError('ESECCOMP_CONFIG', `${field}: ${problem}, not ${JSON.stringify(value)}`, { details: { field, value } });
}

function action(field: string, name: unknown, errnoRet: unknown, errnoField: string): number {
  if (!SECCOMP_ACTIONS.includes(name as SeccompAction)) throw invalid(field, `an action is one of ${SECCOMP_ACTIONS.join(', ')}`, name);
  if (name === 'SCMP_ACT_NOTIFY') {
    throw new IsolaError('ESECCOMP_UNSUPPORTED', `${field}: SCMP_ACT_NOTIFY needs a seccomp listener, which isola does not support yet`, {
      details: { field },
    });
  }
  if (errnoRet !== undefined && !(Number.isInteger(errnoRet) && (errnoRet as number) >= 0 && (errnoRet as number) <= 0xffff)) {
    throw invalid(errnoField, 'an errno is an integer from 0 to 65535', errnoRet);
  }
  return actionValue(name as Exclude<SeccompAction, 'SCMP_ACT_NOTIFY'>, errnoRet as number | undefined);
}

function u64(field: string, value: unknown): bigint {
  const ok = (typeof value === 'number' && Number.isInteger(value)) || typeof value === 'bigint';
  const big = ok ? BigInt(value as number | bigint) : -1n;
  if (big < 0n || big > U64_MAX) throw invalid(field, 'an argument value is an integer from 0 to 2^64-1', typeof value === 'bigint' ? String(value) : value);
  return big;
}

function comparison(field: string, arg: unknown): Comparison {
  if (typeof arg !== 'object' || arg === null) throw invalid(field, 'an argument comparison is an object', arg);
  const { index, op, value, valueTwo } = arg as Record<string, unknown>;
  if (!(Number.isInteger(index) && (index as number) >= 0 && (index as number) <= 5)) {
    throw invalid(`${field}.index`, 'a syscall argument index is 0 to 5', index);
  }
  if (!SECCOMP_OPERATORS.includes(op as SeccompOperator)) throw invalid(`${field}.op`, `an operator is one of ${SECCOMP_OPERATORS.join(', ')}`, op);
  return {
    index: index as number,
    op: op as SeccompOperator,
    value: u64(`${field}.value`, value),
    valueTwo: valueTwo === undefined ? 0n : u64(`${field}.valueTwo`, valueTwo),
  };
}

function architectures(names: unknown): Pick<Profile, 'architectures' | 'foreignArchitectures'> {
  // With no list, libseccomp filters for the native architecture only.
  if (names === undefined || (Array.isArray(names) && names.length === 0)) return { architectures: [ARCHITECTURES.SCMP_ARCH_X86_64], foreignArchitectures: [] };
  if (!Array.isArray(names)) throw invalid(`${ROOT}.architectures`, 'architectures are a list', names);
  const found: Architecture[] = [];
  const foreign: string[] = [];
  names.forEach((name: unknown, i) => {
    if (typeof name === 'string' && isArchitectureName(name)) {
      if (!found.includes(ARCHITECTURES[name])) found.push(ARCHITECTURES[name]);
    } else if (typeof name === 'string' && FOREIGN_ARCHITECTURES.has(name)) {
      foreign.push(name);
    } else {
      throw invalid(`${ROOT}.architectures[${i}]`, 'an architecture is an SCMP_ARCH_* name', name);
    }
  });
  return { architectures: found, foreignArchitectures: foreign };
}

function flags(names: unknown): number {
  if (names === undefined) return 0;
  if (!Array.isArray(names)) throw invalid(`${ROOT}.flags`, 'flags are a list', names);
  return names.reduce((all: number, name: unknown, i) => {
    if (typeof name !== 'string' || !Object.hasOwn(SECCOMP_FLAGS, name)) {
      throw invalid(`${ROOT}.flags[${i}]`, `a flag is one of ${Object.keys(SECCOMP_FLAGS).join(', ')}`, name);
    }
    return all | SECCOMP_FLAGS[name];
  }, 0);
}

function names(field: string, list: unknown): string[] {
  if (!Array.isArray(list) || list.length === 0) throw invalid(field, 'a rule names at least one syscall', list);
  list.forEach((name: unknown, i) => {
    if (typeof name !== 'string' || name === '') throw invalid(`${field}[${i}]`, 'a syscall name is a non-empty string', name);
  });
  return list as string[];
}

export function readProfile(spec: LinuxSeccomp): Profile {
  if (typeof spec !== 'object' || spec === null) throw invalid(ROOT, 'seccomp is an object', spec);
  const defaultAction = action(`${ROOT}.defaultAction`, spec.defaultAction, spec.defaultErrnoRet, `${ROOT}.defaultErrnoRet`);
  const syscalls: unknown = spec.syscalls ?? [];
  if (!Array.isArray(syscalls)) throw invalid(`${ROOT}.syscalls`, 'syscalls are a list', syscalls);
  const rules = syscalls.map((entry: unknown, i): Rule => {
    const field = `${ROOT}.syscalls[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw invalid(field, 'a syscall rule is an object', entry);
    const rule = entry as Record<string, unknown>;
    const args: unknown = rule.args ?? [];
    if (!Array.isArray(args)) throw invalid(`${field}.args`, 'args are a list', args);
    return {
      names: names(`${field}.names`, rule.names),
      action: action(`${field}.action`, rule.action, rule.errnoRet, `${field}.errnoRet`),
      comparisons: args.map((arg: unknown, a) => comparison(`${field}.args[${a}]`, arg)),
    };
  });
  return { defaultAction, ...architectures(spec.architectures), flags: flags(spec.flags), rules };
}
