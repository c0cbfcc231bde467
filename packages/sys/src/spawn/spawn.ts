// Starts a child in new namespaces without running any JavaScript in it: clone() enters the 205-byte
// interpreter, which executes the prepared steps and then execve. A failing step is reported back as
// (step, errno) over a close-on-exec pipe, so the parent learns of success when the pipe closes.
// Where that machine code cannot run, the same steps run in a Node child instead (fallback/launch.ts).
import { IsolaError } from '@isola/errors';
import * as c from '../abi/constants.js';
import { SyscallError, errnoName } from '../errors.js';
import { lastErrno, libc } from '../libc.js';
import { close, fcntl, pipe2, read } from '../syscalls/files.js';
import { type Mapping, mmap } from '../syscalls/memory.js';
import { describeCloneFlags } from '../syscalls/namespaces.js';
import { waitid } from '../syscalls/process.js';
import { LOAD_FAILED_MARK, TS_PREFIX_LENGTH, launchTsChild } from './fallback/launch.js';
import { interpreterCode, spawnPath } from './path.js';
import { type Step, layOutProgram, programSize } from './program.js';
import { resetSignalsSteps } from './steps.js';

export { spawnPath, type SpawnPath } from './path.js';

export class SpawnError extends IsolaError {
  readonly step: number;
  readonly errno: number;

  constructor(step: number, describe: string, errno: number) {
    const name = errno ? errnoName(errno) : 'ECHILD';
    const message = errno ? `step ${step + 1}, ${describe}: ${name} (${libc.strerror(errno)})` : `the child ended before it reached "${describe}"`;
    super(name, message, { details: { step, describe, errno } });
    this.name = 'SpawnError';
    this.step = step;
    this.errno = errno;
  }
}

/** glibc's clone() keeps fn and arg on the child's stack; the interpreter itself uses none. */
const STACK_SIZE = 4096;

/**
 * Children that share this process's memory (CLONE_VM) read their program and stack from it until they
 * exec or exit: the mapping is freed only then. Detached children's mappings wait here, and are freed
 * once their report pipe says they are done.
 */
const detached: Array<{ fd: number; memory: Mapping | undefined }> = [];

function reapDetached(): void {
  for (let i = detached.length - 1; i >= 0; i--) {
    const { fd, memory } = detached[i]!;
    try {
      // O_NONBLOCK was set on release: EOF (0) or a report means the child no longer runs the program.
      read(fd, Buffer.alloc(8));
    } catch (error) {
      if (error instanceof SyscallError && error.code === 'EAGAIN') continue;
    }
    close(fd);
    memory?.unmap();
    detached.splice(i, 1);
  }
}

const READY_MARK = 0xffffffff;

/**
 * A step that tells the parent "every step before me succeeded" (awaitReady returns). spawnChild turns
 * it into a write of { READY_MARK, 0 } on the error pipe, whose fd only spawnChild knows.
 */
export const READY: Step = { syscall: 'write', args: [], describe: 'report ready' };

export interface SpawnOptions {
  /** CLONE_NEW* flags: the namespaces the child is created in. */
  namespaces?: number;
  steps: readonly Step[];
}

export class SpawnedChild {
  readonly pid: number;
  #errorFd: number;
  readonly #steps: readonly Step[];
  readonly #offset: number;

  /** The program and stack a CLONE_VM child reads from this process (none for the TS path). */
  readonly #memory: Mapping | undefined;

  constructor(pid: number, errorFd: number, steps: readonly Step[], offset: number, memory?: Mapping) {
    this.pid = pid;
    this.#errorFd = errorFd;
    this.#steps = steps;
    this.#offset = offset;
    this.#memory = memory;
  }

  /**
   * Waits until the child has run every step (and exec'd or exited). If a step failed, the child is
   * reaped and a SpawnError names the step and errno.
   */
  awaitSteps(): void {
    for (;;) {
      const report = this.#readReport();
      if (report === null) return;
      if (report.step !== READY_MARK) this.#fail(report);
    }
  }

  /**
   * Waits until the child reaches its READY step, leaving it running (e.g. blocked on a start fifo).
   * Throws SpawnError (the child reaped) if a step before it failed, or if the child ended without it.
   */
  awaitReady(): void {
    const report = this.#readReport();
    if (report?.step === READY_MARK) return;
    if (report) this.#fail(report);
    waitid({ pid: this.pid });
    throw new SpawnError(this.#steps.length, 'report ready', 0);
  }

  /** Stops listening for reports (after awaitReady, when the caller hands the child over). */
  release(): void {
    if (this.#errorFd < 0) return;
    fcntl(this.#errorFd, c.F_SETFL, fcntl(this.#errorFd, c.F_GETFL) | c.O_NONBLOCK);
    detached.push({ fd: this.#errorFd, memory: this.#memory });
    this.#errorFd = -1;
  }

  /** The child is done with its program (it exec'd or exited): free it. */
  #finished(): void {
    if (this.#errorFd >= 0) close(this.#errorFd);
    this.#errorFd = -1;
    this.#memory?.unmap();
  }

  #readReport(): { step: number; errno: number } | null {
    if (this.#errorFd < 0) return null;
    const report = Buffer.alloc(8);
    let got = 0;
    while (got < 8) {
      const n = read(this.#errorFd, report.subarray(got));
      if (n === 0) break;
      got += n;
    }
    if (got < 8) {
      this.#finished();
      return null;
    }
    return { step: report.readUInt32LE(0), errno: report.readUInt32LE(4) };
  }

  #fail(report: { step: number; errno: number }): never {
    this.#finished();
    waitid({ pid: this.pid });
    if (report.step === LOAD_FAILED_MARK) throw new SpawnError(0, 'start the pure-TS spawn child', report.errno);
    const index = report.step - this.#offset;
    const step = this.#steps[index];
    throw new SpawnError(index, step?.describe ?? `signal reset ${report.step}`, report.errno);
  }
}

/**
 * clone()s a child into the given namespaces, running `steps` in it. Returns once the child exists; call
 * awaitSteps() to learn whether its steps succeeded (they may wait for the parent, e.g. for uid maps).
 */
export function spawnChild(options: SpawnOptions): SpawnedChild {
  reapDetached();
  const code = spawnPath() === 'machine-code' ? interpreterCode() : null;
  // Not dumpable while it runs the runtime's image: other processes in the namespaces it joins (a
  // container, for exec) cannot open /proc/PID/exe, the runtime's binary, to overwrite it (CVE-2019-5736).
  // execve makes the new program dumpable again.
  const resets = [{ syscall: 'prctl', args: [c.PR_SET_DUMPABLE, 0, 0, 0, 0], describe: 'prctl(PR_SET_DUMPABLE, 0)' } as Step, ...resetSignalsSteps()];
  const steps = [...resets, ...options.steps];
  const ready = Buffer.alloc(8);
  ready.writeUInt32LE(READY_MARK, 0);
  const [errorRead, errorWrite] = pipe2(c.O_CLOEXEC);
  const resolved = steps.map((step) => (step === READY ? { ...step, args: [errorWrite, ready, 8] } : step));
  if (!code) {
    try {
      // A dry layout here, so that a bad step fails in this process as it does on the machine-code path.
      layOutProgram(resolved, errorWrite, new Uint8Array(programSize(resolved)), 0n);
      const namespaces = options.namespaces ?? 0;
      const pid = launchTsChild(resolved, errorWrite, namespaces);
      return new SpawnedChild(pid, errorRead, options.steps, TS_PREFIX_LENGTH + resets.length);
    } catch (error) {
      close(errorRead);
      throw error;
    } finally {
      close(errorWrite);
    }
  }
  // One mapping holds the child's stack (first page) and its program.
  const memory = mmap(STACK_SIZE + Math.ceil(programSize(steps) / 4096) * 4096);
  const program = memory.bytes.subarray(STACK_SIZE);
  const programAddress = memory.address + BigInt(STACK_SIZE);
  // Signals stay blocked from before clone() until the child has reset every handler: a signal must
  // never run Node's handler in the child, which shares this process's memory.
  const all = Buffer.alloc(128, 0xff);
  const saved = Buffer.alloc(128);
  let cloned = false;
  try {
    layOutProgram(resolved, errorWrite, program, programAddress);
    // CLONE_VM spares copying the page tables of a large Node process (milliseconds); a child that
    // enters or joins a user namespace must own its memory, so it gets a copy.
    const namespaces = options.namespaces ?? 0;
    const joinsUserNs = options.steps.some((st) => st.syscall === 'setns' && st.args[1] === c.CLONE_NEWUSER);
    const shareMemory = (namespaces & c.CLONE_NEWUSER) === 0 && !joinsUserNs;
    const flags = namespaces | c.SIGCHLD | (shareMemory ? c.CLONE_VM : 0);
    libc.pthread_sigmask(c.SIG_SETMASK, all, saved);
    const pid = libc.clone(code.address, memory.address + BigInt(STACK_SIZE), flags, programAddress);
    const errno = lastErrno();
    libc.pthread_sigmask(c.SIG_SETMASK, saved, null);
    if (pid === -1) throw new SyscallError('clone', describeCloneFlags(namespaces), errno);
    cloned = true;
    return new SpawnedChild(pid, errorRead, options.steps, resets.length, memory);
  } catch (error) {
    close(errorRead);
    throw error;
  } finally {
    close(errorWrite);
    if (!cloned) memory.unmap();
  }
}

/** spawnChild and awaitSteps together: the pid of a child that has exec'd. */
export function spawn(options: SpawnOptions): number {
  const child = spawnChild(options);
  child.awaitSteps();
  return child.pid;
}
