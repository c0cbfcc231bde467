// The process that makes a container's init and becomes its monitor (monitor/launch.ts), as the caller
// sees it: started early, so that its loading overlaps the caller's work, then given the container.
// Its own module, light on imports: `isola run` starts one before it loads the engine (the CLI imports
// @isola/engine/launcher, a small bundle of this file).
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { IsolaError } from '@isola/errors';
import { LAUNCH_SCRIPT } from '../monitor/launch-script.js';
import { describeEnd, launcherFailureReason } from '../monitor/launch-failure.js';
import { timingEnv } from '../timing/mark.js';
import type { ContainerStore } from './store.js';

/**
 * The process that will make a container's init and become its monitor, started before the container
 * is ready so that its loading overlaps the caller's work. `launch` sends it the order and resolves
 * with the init's pid once it exists (and, for `start`, has exec'd its program); `cancel` ends it.
 */
export class Launcher {
  readonly #child: ChildProcess;
  readonly #exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #attachStdin: boolean;
  /** What the launcher wrote on its stderr, a pipe to this process (its last 16 KiB). */
  #stderr = '';

  /**
   * `attachStdin`: this process's stdin becomes the container's (foreground `run -i`), passed as fd 4.
   * `script`: the launcher to run (tests give one that fails).
   */
  constructor(options: { attachStdin?: boolean; script?: string } = {}) {
    this.#attachStdin = options.attachStdin ?? false;
    this.#child = spawn(process.execPath, [options.script ?? LAUNCH_SCRIPT], {
      detached: true, stdio: ['pipe', 'ignore', 'pipe', 'pipe', ...(this.#attachStdin ? [0] : [])], cwd: '/',
      env: { ...process.env, ...timingEnv(), NODE_NO_WARNINGS: '1' },
    });
    this.#exited = new Promise((resolve) => this.#child.once('exit', (code, signal) => resolve({ code, signal })));
    this.#child.stdin!.on('error', () => {}); // it may end before reading (e.g. cancelled)
    this.#child.stderr!.on('error', () => {});
    this.#child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      // ISOLA_TIMING=1: the launcher's phases, on this command's timeline (timing/mark.ts).
      for (const line of text.split('\n')) if (line.startsWith('isola-timing: ')) process.stderr.write(`${line}\n`);
      this.#stderr = (this.#stderr + text).slice(-16384);
    });
  }

  cancel(): void {
    this.#child.stdin!.end();
    (this.#child.stdio[3] as Readable).destroy();
    this.#child.stderr!.destroy();
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
      this.#child.stderr!.destroy();
      this.#child.unref();
      return message.pid;
    }
    const { code, signal } = await this.#exited;
    if (message.error) {
      this.#child.stderr!.destroy();
      throw new IsolaError(message.error.code, message.error.message);
    }
    // Its stderr is read to its end first; a container init it made may still hold a copy, so not forever.
    if (!this.#child.stderr!.readableEnded) {
      await new Promise((resolve) => {
        this.#child.stderr!.once('close', resolve);
        setTimeout(resolve, 1000).unref();
      });
    }
    this.#child.stderr!.destroy();
    const reason = launcherFailureReason(this.#stderr);
    throw new IsolaError('ELAUNCH', `the process that creates container ${id.slice(0, 12)} ${describeEnd(code, signal)} before reporting${reason ? `: ${reason}` : ''}`,
      { details: { stderr: this.#stderr } });
  }
}

/** The launcher a `run` needs: none for a foreground --rm (it runs in the caller), else one, with the caller's stdin for a foreground -i without -t. */
export function launcherFor(options: { autoRemove?: boolean; detach?: boolean; interactive?: boolean; tty?: boolean }): Launcher | undefined {
  if (options.autoRemove && !options.detach) return undefined;
  return new Launcher({ attachStdin: (options.interactive ?? false) && !options.detach && !options.tty });
}
