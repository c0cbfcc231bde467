// `isola exec`: another process in a running container, through the runtime's exec (all the init's
// namespaces, its cgroup, its capabilities, seccomp filter and no_new_privs). This process is the new
// one's parent and, without -t, hands it its own stdio: nothing copies the bytes. As docker does,
// stdin is /dev/null without -i, and all three are /dev/null with -d.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IsolaError } from '@isola/errors';
import { abi, waitid } from '@isola/sys';
import { type Process, execInContainer, waitForExit } from '@isola/container';
import { openStores } from './create.js';
import { observe } from './observe.js';
import { withStdio } from '../tty/stdio.js';
import { ConsoleSocket } from '../tty/console-socket.js';
import { type PtySession, relayPty, terminalSize } from '../tty/terminal.js';

export interface ExecOptions {
  command: string[];
  /** K=V, or K to pass this process's value through. */
  env?: string[];
  workdir?: string;
  /** uid[:gid]; the container's user by default. */
  user?: string;
  detach?: boolean;
  /** Keep stdin attached (-i). */
  interactive?: boolean;
  /** A pseudo-terminal in the container (-t). */
  tty?: boolean;
  root?: string;
}

export function parseUser(user: string): { uid: number; gid: number } {
  const [uid, gid] = user.split(':');
  if (!/^\d+$/.test(uid ?? '') || (gid !== undefined && !/^\d+$/.test(gid))) {
    throw new IsolaError('EUSAGE', `--user ${JSON.stringify(user)}: only numeric uid[:gid] is supported yet`);
  }
  return { uid: Number(uid), gid: Number(gid ?? uid) };
}

/** The container's environment with `extra` on top (docker's rule for -e). */
export function mergeEnv(base: readonly string[], extra: readonly string[]): string[] {
  const env = new Map(base.map((e) => [e.includes('=') ? e.slice(0, e.indexOf('=')) : e, e] as const));
  for (const e of extra) {
    const key = e.includes('=') ? e.slice(0, e.indexOf('=')) : e;
    if (!key) throw new IsolaError('EUSAGE', `-e ${JSON.stringify(e)}: the variable has no name`);
    env.set(key, e.includes('=') ? e : `${e}=${process.env[e] ?? ''}`);
  }
  return [...env.values()];
}

/** The exec'd process: the init's process spec with the command, env, cwd and user replaced. */
export function execProcess(init: Process, options: ExecOptions): Process {
  const user = options.user ? { ...init.user, ...parseUser(options.user), additionalGids: [] } : init.user;
  return {
    ...init, terminal: options.tty ?? false, consoleSize: undefined, args: options.command,
    env: mergeEnv(init.env ?? [], options.env ?? []), cwd: options.workdir ?? init.cwd, user,
  };
}

/** Runs the command in the container; its exit status (0 with -d). */
export async function execInContainerRef(ref: string, options: ExecOptions): Promise<number> {
  if (!options.command.length) throw new IsolaError('EUSAGE', 'exec needs a command to run in the container');
  if (options.detach && options.tty) throw new IsolaError('EUSAGE', 'exec -d with -t is not supported: no process would hold the terminal');
  if (options.workdir !== undefined && !options.workdir.startsWith('/')) {
    throw new IsolaError('EUSAGE', `-w ${JSON.stringify(options.workdir)}: the working directory must be an absolute path`);
  }
  const { containers } = await openStores(options.root);
  const id = containers.resolve(ref);
  const name = containers.config(id).name;
  if ((await observe(containers, id)).status !== 'running') throw new IsolaError('ESTATE', `container ${name} is not running`);
  const spec = JSON.parse(readFileSync(join(containers.bundle(id), 'config.json'), 'utf8')) as { process: Process };
  const proc = execProcess(spec.process, options);
  const runtime = { id, root: containers.runtimeRoot, process: proc };
  try {
    if (options.detach) return await execDetached(runtime);
    if (!options.tty) return await withStdio({ stdin: options.interactive ?? false, output: true }, () => execInContainer(runtime));
    return await execWithTerminal(runtime, options.interactive ?? false);
  } catch (error) {
    // The container may have ended while the process was being made: say that, not the errno.
    if ((await observe(containers, id)).status !== 'running') throw new IsolaError('ESTATE', `container ${name} is not running`, { cause: error });
    throw error;
  }
}

/**
 * -d: nothing attached. The process is still this one's child: a CLI exits at once and leaves it to the
 * host's init, a longer-lived caller reaps it in the background (a zombie would keep the cgroup busy).
 */
async function execDetached(runtime: { id: string; root: string; process: Process }): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'isola-exec-'));
  try {
    const pidFile = join(dir, 'pid');
    await withStdio({ stdin: false, output: false }, () => execInContainer({ ...runtime, detach: true, pidFile }));
    reapInBackground(Number(readFileSync(pidFile, 'utf8')));
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function reapInBackground(pid: number): void {
  const timer = setInterval(() => {
    try {
      if (waitid({ pid }, abi.WEXITED | abi.WNOHANG) === null) return;
    } catch {
      // not ours any more
    }
    clearInterval(timer);
  }, 100);
  timer.unref();
}

/** -t: the pty's master comes back over a console socket; this process relays it to the terminal. */
async function execWithTerminal(runtime: { id: string; root: string; process: Process }, interactive: boolean): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'isola-exec-'));
  const consoleSocket = new ConsoleSocket();
  let session: PtySession | undefined;
  try {
    const pidFile = join(dir, 'pid');
    const proc = { ...runtime.process, consoleSize: terminalSize() };
    await withStdio({ stdin: false, output: true }, () => execInContainer({ ...runtime, process: proc, detach: true, consoleSocket: consoleSocket.path, pidFile }));
    session = relayPty(consoleSocket.receive(), { interactive });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const code = (await waitForExit(pid, 0)) ?? 255;
    await session.drained();
    return code;
  } finally {
    session?.close();
    consoleSocket.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
