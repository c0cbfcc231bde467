// The pure-TS spawn path, child side: runs in a Node process of its own (posix_spawn'd by launch.ts, so
// its single JS thread is the one that execs) and does what interpreter.S does: lays the same Step list
// out in native memory and executes it step by step, one raw syscall each, reporting (step, errno) on
// the error fd. Every syscall is made by the main thread, and the ones that are per-thread (unshare,
// setns, chdir, setresuid, capset, seccomp) affect exactly the thread that survives execve.
import { readFileSync } from 'node:fs';
import { deserialize } from 'node:v8';
import * as c from '../../abi/constants.js';
import { lastErrno, libc } from '../../libc.js';
import { mmap } from '../../syscalls/memory.js';
import { PROGRAM, STEP_ARG_SHIFT, STEP_IGNORE_FAILURE, STEP_SAVE_SHIFT } from '../interpreter.js';
import { type Step, layOutProgram, programSize } from '../program.js';

/** What launch.ts writes to the program memfd. */
export interface ChildProgram {
  steps: Step[];
  /** Fds that were close-on-exec in the parent: the child marks them so again (they came in without it). */
  closeOnExec: number[];
}

const SYS_EXIT_GROUP = 231n;

function syscall(nr: bigint, args: readonly bigint[]): { result: bigint; errno: number } {
  const raw = libc.syscall6(nr, args[0]!, args[1]!, args[2]!, args[3]!, args[4]!, args[5]!) as number | bigint;
  const result = BigInt(raw);
  return result === -1n ? { result, errno: lastErrno() } : { result, errno: 0 };
}

/** interpreter.S in TypeScript: the same program layout, flags, slots and report. */
export function interpret(program: Uint8Array): never {
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const count = Number(view.getBigUint64(PROGRAM.count, true));
  const errorFd = view.getBigUint64(PROGRAM.errorFd, true);
  const slots: bigint[] = new Array<bigint>(PROGRAM.slotCount).fill(0n);
  for (let i = 0; i < count; i++) {
    const at = PROGRAM.steps + i * PROGRAM.stepSize;
    const flags = view.getBigUint64(at + PROGRAM.flags, true);
    const args: bigint[] = [];
    for (let a = 0; a < 6; a++) {
      const source = Number((flags >> (STEP_ARG_SHIFT + 4n * BigInt(a))) & 15n);
      args.push(source ? slots[source - 1]! : view.getBigUint64(at + 8 + 8 * a, true));
    }
    const { result, errno } = syscall(view.getBigUint64(at, true), args);
    if (errno) {
      if (flags & STEP_IGNORE_FAILURE) continue;
      const report = Buffer.alloc(8);
      report.writeUInt32LE(i, 0);
      report.writeUInt32LE(errno, 4);
      libc.write(Number(errorFd), report, 8);
      libc.syscall6(SYS_EXIT_GROUP, 127n, 0n, 0n, 0n, 0n, 0n);
    }
    const save = Number((flags >> STEP_SAVE_SHIFT) & 15n);
    if (save) slots[save - 1] = result;
  }
  libc.syscall6(SYS_EXIT_GROUP, 0n, 0n, 0n, 0n, 0n, 0n);
  throw new Error('exit_group returned');
}

/** The child's entry point (see launch.ts's bootstrap): read the program, restore fd flags, run it. */
export function runSpawnedSteps(errorFd: number, programFd: number): never {
  const { steps, closeOnExec } = deserialize(readFileSync(`/proc/self/fd/${programFd}`)) as ChildProgram;
  libc.close(programFd);
  for (const fd of closeOnExec) libc.fcntl(fd, c.F_SETFD, c.FD_CLOEXEC);
  const memory = mmap(Math.ceil(programSize(steps) / 4096) * 4096);
  layOutProgram(steps, errorFd, memory.bytes, memory.address);
  return interpret(memory.bytes);
}
