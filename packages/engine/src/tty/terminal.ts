// The host side of a container's pty: this process's terminal goes raw while keystrokes are relayed
// (-i -t) and is restored afterwards, the window size follows the terminal (SIGWINCH → TIOCSWINSZ on the
// master), and, when this process holds the only master (exec -t, run --rm -t), the output is copied
// from the master to stdout.
import { writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReadStream } from 'node:tty';
import { abi, close, fcntl, ioctl, structs } from '@isola/sys';

/** fcntl's F_DUPFD_CLOEXEC: not among @isola/sys's constants. */
const F_DUPFD_CLOEXEC = 1030;

export interface TerminalSize {
  height: number;
  width: number;
}

/** The size of this process's terminal (stdout's, else stdin's), if it has one. */
export function terminalSize(): TerminalSize | undefined {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.isTTY && stream.rows && stream.columns) return { height: stream.rows, width: stream.columns };
  }
  return undefined;
}

export function setWindowSize(master: number, size: TerminalSize): void {
  const ws = new Uint8Array(structs.winsize.size);
  const view = new DataView(ws.buffer);
  view.setUint16(structs.winsize.ws_row, size.height, true);
  view.setUint16(structs.winsize.ws_col, size.width, true);
  ioctl(master, abi.TIOCSWINSZ, ws, 'TIOCSWINSZ');
}

/** Writes all of `data` to `fd`, which may be non-blocking (a pty master shared with libuv). */
async function writeAll(fd: number, data: Buffer): Promise<void> {
  for (let at = 0; at < data.length; ) {
    try {
      at += writeSync(fd, data, at);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN') throw error;
      await sleep(5);
    }
  }
}

/**
 * Relays this process's terminal to the pty master `input` (an fd this object owns): stdin into it with
 * `interactive`, the window size always. `close` restores the terminal and stops listening.
 */
export class HostTerminal {
  readonly #input: number;
  #raw = false;
  #queue: Promise<void> = Promise.resolve();
  readonly #onData = (chunk: Buffer) => {
    this.#queue = this.#queue.then(() => writeAll(this.#input, chunk)).catch(() => {});
  };
  readonly #onResize = () => {
    const size = terminalSize();
    if (size) {
      try {
        setWindowSize(this.#input, size);
      } catch {
        // the container's side is gone
      }
    }
  };

  constructor(input: number, options: { interactive: boolean }) {
    this.#input = input;
    this.#onResize();
    process.stdout.on('resize', this.#onResize);
    if (!options.interactive) return;
    if (process.stdin.isTTY) {
      process.stdin.setRawMode(true);
      this.#raw = true;
    }
    process.stdin.on('data', this.#onData);
    process.stdin.on('error', () => {});
  }

  close(): void {
    process.stdout.off('resize', this.#onResize);
    process.stdin.off('data', this.#onData);
    if (this.#raw) process.stdin.setRawMode(false);
    process.stdin.pause();
    process.stdin.unref?.();
    close(this.#input);
  }
}

/** The pty's output, from the master this process holds, to stdout; `drained` once the pty is closed. */
export class MasterRelay {
  readonly #stream: ReadStream;
  readonly #ended: Promise<void>;

  constructor(master: number) {
    this.#stream = new ReadStream(master);
    // EIO: every slave fd is closed. That is the pty's end of file.
    this.#ended = new Promise((resolve) => {
      this.#stream.once('end', resolve);
      this.#stream.once('close', resolve);
      this.#stream.once('error', () => resolve());
    });
    this.#stream.on('data', (chunk: Buffer) => process.stdout.write(chunk));
  }

  /** Resolves when everything written to the pty was shown, or after `limitMs` (a child may keep it open). */
  async drained(limitMs = 1000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#ended, new Promise<void>((resolve) => (timer = setTimeout(resolve, limitMs)))]);
    clearTimeout(timer);
  }

  close(): void {
    this.#stream.destroy();
  }
}

export interface PtySession {
  drained(limitMs?: number): Promise<void>;
  close(): void;
}

/** This process holds the pty's only master: output to stdout, terminal input and size into it. */
export function relayPty(master: number, options: { interactive: boolean }): PtySession {
  const input = fcntl(master, F_DUPFD_CLOEXEC, 3);
  const relay = new MasterRelay(master);
  const host = new HostTerminal(input, options);
  return {
    drained: (limitMs) => relay.drained(limitMs),
    close: () => {
      host.close();
      relay.close();
    },
  };
}
