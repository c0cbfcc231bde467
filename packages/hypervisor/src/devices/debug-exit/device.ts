// A port like QEMU's isa-debug-exit: a test guest writes a status and the VM ends with it. Here the
// status is the value written, unshifted (QEMU reports (value << 1) | 1).
import { valueOf, type Device } from '../bus.js';

export const DEBUG_EXIT_PORT = 0x501;
export const DEBUG_EXIT_PORT_COUNT = 2;

export class DebugExit implements Device {
  readonly name = 'debug-exit';
  readonly #onExit: (status: number) => void;

  constructor(onExit: (status: number) => void) {
    this.#onExit = onExit;
  }

  read(_offset: number, data: Uint8Array): void {
    data.fill(0);
  }

  write(_offset: number, data: Uint8Array): void {
    this.#onExit(valueOf(data));
  }
}
