// The createContainer and startContainer hooks run "in the container namespace" (runtime-spec
// config.md): a child joins the container's namespaces, then execs the hook, whose path resolves there.
// No JavaScript runs in that child, as for the container's own process; the state arrives on stdin
// from a memfd (no pipe to fill, so a hook that does not read it cannot block the runtime).
import { setTimeout as sleep } from 'node:timers/promises';
import { IsolaError } from '@isola/errors';
import { abi, close, kill, memfdCreate, open, pread, slot, spawnChild, steps as s, waitid, write, type ChildState, type Step } from '@isola/sys';
import type { Hook, NamespaceType, State } from '../spec/types.js';
import { inPidNamespaceOf, joinSteps } from './join.js';

export interface ContainerTarget {
  /** The container's init, whose namespaces the hook joins. */
  pid: number;
  namespaces: ReadonlySet<NamespaceType>;
}

const STDIN_SLOT = 6;

function hookSteps(hook: Hook, stateFd: number, nullFd: number, stderrFd: number, target: ContainerTarget): Step[] {
  const argv = hook.args?.length ? hook.args : [hook.path];
  return [
    // stdio first, while /proc/self is still this host's.
    s.openStep(`/proc/self/fd/${stateFd}`, abi.O_RDONLY, STDIN_SLOT),
    { syscall: 'dup3', args: [slot(STDIN_SLOT), 0, 0], describe: 'state on stdin' },
    s.closeSlotStep(STDIN_SLOT),
    s.dup2Step(nullFd, 1),
    s.dup2Step(stderrFd, 2),
    ...joinSteps(target.pid, target.namespaces),
    s.closeRangeCloexecStep(3),
    s.execveStep(hook.path, argv, hook.env ?? []),
  ];
}

async function waitWithTimeout(pid: number, timeout: number | undefined): Promise<ChildState | 'timed out'> {
  const deadline = timeout ? Date.now() + timeout * 1000 : Infinity;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    const state = waitid({ pid }, abi.WEXITED | abi.WNOHANG);
    if (state) return state;
    if (Date.now() >= deadline) {
      kill(pid, 9);
      waitid({ pid });
      return 'timed out';
    }
    await sleep(delay);
  }
}

/** Runs one hook in the container's namespaces; throws EHOOK naming it when it fails. */
export async function runHookInContainer(name: string, hook: Hook, state: State, target: ContainerTarget): Promise<void> {
  const fds: number[] = [];
  try {
    const stateFd = memfdCreate('isola-hook-state');
    fds.push(stateFd);
    write(stateFd, Buffer.from(JSON.stringify(state)));
    const stderrFd = memfdCreate('isola-hook-stderr');
    fds.push(stderrFd);
    const nullFd = open('/dev/null', abi.O_WRONLY | abi.O_CLOEXEC);
    fds.push(nullFd);
    const steps = hookSteps(hook, stateFd, nullFd, stderrFd, target);
    let pid: number;
    try {
      const child = inPidNamespaceOf(target.pid, target.namespaces.has('pid'), () => spawnChild({ steps }));
      pid = child.pid;
      child.awaitSteps();
    } catch (error) {
      throw new IsolaError('EHOOK', `${name}: ${(error as Error).message}`, { cause: error });
    }
    const ended = await waitWithTimeout(pid, hook.timeout);
    if (ended !== 'timed out' && ended.kind === 'exited' && ended.status === 0) return;
    const why = ended === 'timed out' ? `timed out after ${hook.timeout} s` : ended.kind === 'exited' ? `exited with status ${ended.status}` : `killed by signal ${ended.signal}`;
    const stderr = Buffer.alloc(4096);
    const line = stderr.subarray(0, pread(stderrFd, stderr, 0)).toString().trim().split('\n')[0];
    throw new IsolaError('EHOOK', `${name} ${why}${line ? `: ${line}` : ''}`);
  } finally {
    for (const fd of fds) close(fd);
  }
}
