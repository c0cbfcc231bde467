// The receiving end of --console-socket: the runtime's process makes a pty in the container's own devpts
// and sends its master here (SCM_RIGHTS), as runc and crun do for conmon. Unix socket paths are limited
// to 107 bytes, so the socket lives in a short private directory under /tmp, not in the state tree.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { close, recvFd, unixAccept, unixListen } from '@isola/sys';

export class ConsoleSocket {
  readonly path: string;
  readonly #dir: string;
  #fd: number | undefined;

  constructor() {
    this.#dir = mkdtempSync(join(tmpdir(), 'isola-console-'));
    this.path = join(this.#dir, 'sock');
    try {
      this.#fd = unixListen(this.path);
    } catch (error) {
      rmSync(this.#dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The pty master the runtime sent (call once the process has been made: it is then queued). */
  receive(): number {
    const connection = unixAccept(this.#fd!);
    try {
      return recvFd(connection).fd;
    } finally {
      close(connection);
    }
  }

  close(): void {
    if (this.#fd !== undefined) close(this.#fd);
    this.#fd = undefined;
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
