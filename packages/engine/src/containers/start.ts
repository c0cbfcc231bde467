// `isola start` (and the second half of `run`): the container's init, created by a detached process
// that then becomes its monitor (monitor/launch.ts), so the container outlives this command.
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { IsolaError } from '@isola/errors';
import { LAUNCH_SCRIPT } from '../monitor/launch.js';
import { observe } from './observe.js';
import type { ContainerStore } from './store.js';

/**
 * The process that will make a container's init and become its monitor, started before the container
 * is ready so that its loading overlaps the caller's work. `launch` sends it the order and resolves
 * with the init's pid once it exists (and, for `start`, has exec'd its program); `cancel` ends it.
 */
export class Launcher {
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;

  readonly #attachStdin: boolean;

  /** `attachStdin`: this process's stdin becomes the container's (foreground `run -i`), passed as fd 4. */
  constructor(options: { attachStdin?: boolean } = {}) {
    this.#attachStdin = options.attachStdin ?? false;
    this.#child = spawn(process.execPath, [LAUNCH_SCRIPT], {
      detached: true, stdio: ['pipe', 'ignore', 'ignore', 'pipe', ...(this.#attachStdin ? [0] : [])], cwd: '/', env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    this.#exited = new Promise((resolve) => this.#child.once('exit', (code) => resolve(code)));
    this.#child.stdin!.on('error', () => {}); // it may end before reading (e.g. cancelled)
  }

  cancel(): void {
    this.#child.stdin!.end();
    (this.#child.stdio[3] as Readable).destroy();
    this.#child.unref();
  }

  async launch(containers: ContainerStore, id: string, mode: 'create' | 'start'): Promise<number> {
    this.#child.stdin!.end(`${JSON.stringify({ root: containers.root, id, mode, ...(this.#attachStdin ? { stdin: 'attach' } : {}) })}\n`);
    // One line, then stop reading: a created init still holds a copy of the pipe until it execs.
    let text = '';
    const status = this.#child.stdio[3] as Readable;
    for await (const chunk of status) {
      text += String(chunk);
      if (text.includes('\n')) break;
    }
    status.destroy();
    const line = text.split('\n')[0];
    const message = (line ? JSON.parse(line) : {}) as { pid?: number; error?: { code: string; message: string } };
    if (message.pid) {
      this.#child.unref();
      return message.pid;
    }
    const code = await this.#exited;
    if (message.error) throw new IsolaError(message.error.code, message.error.message);
    throw new IsolaError('ELAUNCH', `the process that creates container ${id.slice(0, 12)} ended (status ${code}) before reporting`);
  }
}

/** Creates the init (`create`) or creates and starts it (`start`); resolves with its pid once it is so. */
export async function launchContainer(containers: ContainerStore, id: string, mode: 'create' | 'start', launcher = new Launcher()): Promise<number> {
  return launcher.launch(containers, id, mode);
}

/** Starts a created container: its init is already there, waiting; the runtime's start releases it. */
export async function startCreated(containers: ContainerStore, id: string): Promise<void> {
  const observed = await observe(containers, id);
  if (observed.status === 'running') return;
  if (observed.status === 'exited') {
    throw new IsolaError('ESTATE', `cannot start container "${containers.config(id).name}": it has exited (restarting a stopped container is not supported yet)`);
  }
  if (observed.state.pid === 0) {
    await launchContainer(containers, id, 'start');
    return;
  }
  const { startContainer } = await import('@isola/container');
  await startContainer(id, { root: containers.runtimeRoot });
  containers.writeState(id, { ...observed.state, status: 'running', startedAt: new Date().toISOString() });
}
