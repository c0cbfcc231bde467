// The pure-TS spawn path, parent side: where the interpreter's machine code cannot run (memory that may
// not become executable, another architecture, or ISOLA_SPAWN=ts), the child is a Node process of its
// own that runs the same Step list through child.ts. No JavaScript may run in a forked copy of this
// multi-threaded process, so the child is started with glibc's posix_spawn (made for exactly that: only
// libc code runs between its clone and execve), never with fork. It costs a Node start (~65 ms).
//
// What clone() gives the machine-code path, the TS path rebuilds: the child gets every fd of this process
// at the same number (close-on-exec cleared for the spawn, restored by the child), its namespaces come
// from an unshare() step on its own main thread, and a new PID namespace from this thread's
// pid_for_children, so the child is its PID 1. A new user namespace cannot be made: unshare(CLONE_NEWUSER)
// fails in a multi-threaded process, and Node always is one.
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { IsolaError } from '@isola/errors';
import * as c from '../../abi/constants.js';
import { SyscallError } from '../../errors.js';
import { libc } from '../../libc.js';
import { close, fcntl, memfdCreate, open, write } from '../../syscalls/files.js';
import { setns, unshare } from '../../syscalls/namespaces.js';
import type { Step } from '../program.js';
import type { ChildProgram } from './child.js';

/** The report step number a child that could not load its module sends, with ENOEXEC. */
export const LOAD_FAILED_MARK = 0xfffffffe;
const ENOEXEC = 8;
const CLONE_FS = 0x200;

// CommonJS, so that require('fs') is at hand if the import fails; argv: module URL, error fd, program fd.
const BOOTSTRAP = `const [url, e, p] = process.argv.slice(1);
import(url).then((m) => m.runSpawnedSteps(+e, +p)).catch((err) => {
  process.stderr.write('isola: the pure-TS spawn child failed before its steps: ' + err.message + '\\n');
  const b = Buffer.alloc(8); b.writeUInt32LE(${LOAD_FAILED_MARK}, 0); b.writeUInt32LE(${ENOEXEC}, 4);
  try { require('fs').writeSync(+e, b); } finally { process.exit(127); }
});`;

// node:v8 costs milliseconds to load (it pulls in streams): only this path needs it.
const serialize = (value: unknown): Buffer => (createRequire(import.meta.url)('node:v8') as typeof import('node:v8')).serialize(value);

/**
 * The compiled child.js of @isola/sys. Resolved through the package, so that it is found from its own
 * dist, from a bundle that inlined @isola/sys (isola-runtime), and from the TypeScript sources under test.
 */
function childModule(): string {
  const main = createRequire(import.meta.url).resolve('@isola/sys');
  return pathToFileURL(join(dirname(main), 'spawn', 'fallback', 'child.js')).href;
}

function openFds(): number[] {
  return readdirSync('/proc/self/fd').map(Number).filter((fd) => {
    try {
      fcntl(fd, c.F_GETFD);
      return true;
    } catch {
      return false; // the directory's own fd, closed by now
    }
  });
}

function posixSpawn(path: string, argv: string[], env: string[]): number {
  const pid = Buffer.alloc(4);
  const error = libc.posix_spawn(pid, path, null, null, [...argv, null], [...env, null]) as number;
  if (error) throw new SyscallError('posix_spawn', JSON.stringify(path), error);
  return pid.readInt32LE(0);
}

/** Starts the Node child that runs `steps` (already including signal resets); returns its pid. */
export function launchTsChild(steps: readonly Step[], errorFd: number, namespaces: number): number {
  if (namespaces & c.CLONE_NEWUSER) {
    throw new IsolaError('EUNSUPPORTED', 'spawn: a new user namespace needs the machine-code spawn path; the pure-TS path (ISOLA_SPAWN=ts) runs in Node, which is multi-threaded, and unshare(CLONE_NEWUSER) fails there');
  }
  // CLONE_FS always: Node's threads share one fs_struct (root, cwd, umask), and setns into a mount
  // namespace fails with EINVAL for a thread that shares it.
  const flags = CLONE_FS | (namespaces & ~c.CLONE_NEWPID);
  const unshareStep: Step[] = [{ syscall: 'unshare', args: [flags], describe: 'unshare the new namespaces and the fs attributes' }];
  const memfd = memfdCreate('isola-spawn-program');
  let restorePid: number | undefined;
  try {
    const closeOnExec = openFds().filter((fd) => fcntl(fd, c.F_GETFD) & c.FD_CLOEXEC);
    const program: ChildProgram = { steps: [...unshareStep, ...steps], closeOnExec };
    const bytes = serialize(program);
    for (let done = 0; done < bytes.length; ) done += write(memfd, bytes.subarray(done));
    if (namespaces & c.CLONE_NEWPID) {
      // Decides where this thread's next child goes: into a new PID namespace, as its PID 1.
      restorePid = open('/proc/self/ns/pid_for_children', c.O_RDONLY | c.O_CLOEXEC);
      unshare(c.CLONE_NEWPID);
    }
    for (const fd of closeOnExec) fcntl(fd, c.F_SETFD, 0);
    try {
      // --jitless: the child needs no JIT, and a policy that forbids executable memory (the usual reason
      // to be here) forbids V8's too.
      const argv = [process.execPath, '--jitless', '--no-expose-wasm', '--no-warnings', '-e', BOOTSTRAP, childModule(), String(errorFd), String(memfd)];
      return posixSpawn(process.execPath, argv, []);
    } finally {
      for (const fd of closeOnExec) fcntl(fd, c.F_SETFD, c.FD_CLOEXEC);
    }
  } finally {
    if (restorePid !== undefined) {
      setns(restorePid, c.CLONE_NEWPID, '/proc/self/ns/pid_for_children');
      close(restorePid);
    }
    close(memfd);
  }
}

/** The number of steps launchTsChild puts before the caller's (the unshare): they shift step indexes in reports. */
export const TS_PREFIX_LENGTH = 1;
