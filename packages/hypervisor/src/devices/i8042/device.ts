// The PC keyboard controller, kept for the one thing guests use it for here: a reset by writing 0xfe
// to its command port (Linux's reboot=k, and many test kernels). Enough of the command set answers for
// Linux's i8042 probe to give up quietly: the controller byte, the self-test, and no keyboard.
import type { Device } from '../bus.js';

export const I8042_DATA_PORT = 0x60;
export const I8042_COMMAND_PORT = 0x64;

const STATUS_OUTPUT_FULL = 0x01;
const STATUS_SYSTEM = 0x04;
const STATUS_COMMAND = 0x08;

const CMD_READ_CONTROL = 0x20;
const CMD_WRITE_CONTROL = 0x60;
const CMD_SELF_TEST = 0xaa;
const CMD_PULSE_RESET = 0xfe;

export class I8042 implements Device {
  readonly name = 'i8042';
  readonly #onReset: () => void;
  #control = 0x47;
  #status = STATUS_SYSTEM;
  #output: number | undefined;
  #pendingCommand = 0;

  constructor(onReset: () => void) {
    this.#onReset = onReset;
  }

  /** Offsets are relative to port 0x60: 0 is data, 4 is command/status. */
  read(offset: number, data: Uint8Array): void {
    data.fill(0);
    if (offset === 4) {
      data[0] = this.#status | (this.#output === undefined ? 0 : STATUS_OUTPUT_FULL);
    } else if (offset === 0) {
      data[0] = this.#output ?? 0;
      this.#output = undefined;
    }
  }

  write(offset: number, data: Uint8Array): void {
    const value = data[0]!;
    if (offset === 4) {
      this.#status |= STATUS_COMMAND;
      switch (value) {
        case CMD_READ_CONTROL:
          this.#output = this.#control;
          break;
        case CMD_WRITE_CONTROL:
          this.#pendingCommand = value;
          break;
        case CMD_SELF_TEST:
          this.#output = 0x55;
          break;
        case CMD_PULSE_RESET:
          this.#onReset();
          break;
        default:
          break;
      }
    } else if (offset === 0) {
      this.#status &= ~STATUS_COMMAND;
      if (this.#pendingCommand === CMD_WRITE_CONTROL) this.#control = value;
      this.#pendingCommand = 0;
    }
  }
}
