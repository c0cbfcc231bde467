// A child's syscall list, planned in TypeScript and laid out in native memory for the interpreter:
// steps of (number, six arguments, flags), strings and NULL-terminated pointer arrays in a pool after
// them. Pure planning: nothing here calls the kernel.
import { SYS, type SyscallName } from '../abi/constants.js';
import { PROGRAM, STEP_ARG_SHIFT, STEP_IGNORE_FAILURE, STEP_SAVE_SHIFT } from './interpreter.js';

/**
 * An argument: a number, a C string, bytes (passed by address), an argv-style string array, NULL, or a
 * struct whose fields at the given byte offsets point at other arguments (e.g. sock_fprog's filter).
 */
export type StepArg = number | bigint | string | Uint8Array | readonly string[] | null | StructArg | SlotRef;

/** The result an earlier step saved (`saveTo`) in one of eight slots: an fd from openat, say. */
export interface SlotRef {
  slot: number;
}

export const slot = (n: number): SlotRef => ({ slot: n });
const isSlot = (arg: StepArg): arg is SlotRef => typeof arg === 'object' && arg !== null && 'slot' in arg;

export interface StructArg {
  bytes: Uint8Array;
  pointers: ReadonlyArray<readonly [offset: number, target: StepArg]>;
}

const isStruct = (arg: StepArg): arg is StructArg => typeof arg === 'object' && arg !== null && 'pointers' in arg;

export interface Step {
  syscall: SyscallName;
  args: StepArg[];
  /** How failures name this step: `mount("proc" on "/proc")`. */
  describe: string;
  ignoreFailure?: boolean;
  /** Keep the result (e.g. an fd from openat) in this slot (0-7) for later steps' `slot(n)` arguments. */
  saveTo?: number;
}

const align8 = (n: number): number => (n + 7) & ~7;

function poolSize(arg: StepArg): number {
  if (typeof arg === 'string') return align8(Buffer.byteLength(arg) + 1);
  if (arg instanceof Uint8Array) return align8(arg.byteLength);
  if (Array.isArray(arg)) return 8 * (arg.length + 1) + arg.reduce((n: number, s: string) => n + poolSize(s), 0);
  if (isStruct(arg)) return align8(arg.bytes.byteLength) + arg.pointers.reduce((n, [, target]) => n + poolSize(target), 0);
  return 0;
}

function checkSlot(n: number, step: Step): number {
  if (!Number.isInteger(n) || n < 0 || n >= PROGRAM.slotCount) throw new RangeError(`${step.describe}: slot ${n} is not 0-${PROGRAM.slotCount - 1}`);
  return n;
}

export function programSize(steps: readonly Step[]): number {
  let size = PROGRAM.steps + steps.length * PROGRAM.stepSize;
  for (const step of steps) for (const arg of step.args) size += poolSize(arg);
  return size;
}

/** Writes a u64: small non-negative numbers as two u32 halves (no BigInt), everything else as BigInt. */
function setU64(view: DataView, at: number, value: number | bigint): void {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
    view.setUint32(at, value % 0x100000000, true);
    view.setUint32(at + 4, Math.floor(value / 0x100000000), true);
  } else {
    view.setBigUint64(at, BigInt.asUintN(64, BigInt(value)), true);
  }
}

/**
 * Writes the program into `memory`, which lives at native address `base` (pointers in the program are
 * absolute: the child sees the same addresses in its copy of the address space).
 */
export function layOutProgram(steps: readonly Step[], errorFd: number, memory: Uint8Array, base: bigint): void {
  const view = new DataView(memory.buffer, memory.byteOffset, memory.byteLength);
  const text = Buffer.from(memory.buffer, memory.byteOffset, memory.byteLength);
  let pool = PROGRAM.steps + steps.length * PROGRAM.stepSize;
  const place = (arg: StepArg): bigint | number => {
    if (arg === null) return 0;
    if (typeof arg === 'number' || typeof arg === 'bigint') return arg;
    if (isSlot(arg)) return 0; // resolved by the interpreter from the step's flags
    const at = pool;
    if (typeof arg === 'string') {
      pool += poolSize(arg);
      text[at + text.write(arg, at, 'utf8')] = 0;
    } else if (arg instanceof Uint8Array) {
      pool += poolSize(arg);
      memory.set(arg, at);
    } else if (isStruct(arg)) {
      pool += align8(arg.bytes.byteLength);
      memory.set(arg.bytes, at);
      for (const [offset, target] of arg.pointers) setU64(view, at + offset, place(target));
    } else {
      pool += 8 * (arg.length + 1);
      arg.forEach((s, i) => setU64(view, at + 8 * i, place(s)));
      setU64(view, at + 8 * arg.length, 0);
    }
    return base + BigInt(at);
  };
  setU64(view, PROGRAM.count, steps.length);
  setU64(view, PROGRAM.errorFd, errorFd);
  steps.forEach((step, i) => {
    if (step.args.length > 6) throw new RangeError(`${step.describe}: a syscall takes at most 6 arguments`);
    const at = PROGRAM.steps + i * PROGRAM.stepSize;
    setU64(view, at, SYS[step.syscall]);
    // Flags fit in 40 bits: plain arithmetic, no BigInt (see interpreter.S for the layout).
    let flags = step.ignoreFailure ? Number(STEP_IGNORE_FAILURE) : 0;
    if (step.saveTo !== undefined) flags += (checkSlot(step.saveTo, step) + 1) * 2 ** Number(STEP_SAVE_SHIFT);
    step.args.forEach((arg, a) => {
      if (isSlot(arg)) flags += (checkSlot(arg.slot, step) + 1) * 2 ** (Number(STEP_ARG_SHIFT) + 4 * a);
      setU64(view, at + 8 + 8 * a, place(arg));
    });
    setU64(view, at + PROGRAM.flags, flags);
  });
}
