// The PC keyboard controller, kept for two things: a reset by writing 0xfe to its command port (Linux's
// reboot=k, and many test kernels), and the monitor's power-off request, Ctrl+Alt+Del on the keyboard,
// as Firecracker's SendCtrlAltDel does (the same scancode set 2 make codes, then IRQ 1). Linux turns it
// into ctrl_alt_del(), an orderly reboot that ends in the 0xfe reset; the guest kit's `poweroff` guest
// polls for it. Enough of the command set answers for Linux's i8042 probe: the controller byte and the
// self-test.
import type { Device } from '../bus.js';

export const I8042_DATA_PORT = 0x60;
export const I8042_COMMAND_PORT = 0x64;
export const I8042_IRQ = 1;

const STATUS_OUTPUT_FULL = 0x01;
const STATUS_SYSTEM = 0x04;
const STATUS_COMMAND = 0x08;

const CMD_READ_CONTROL = 0x20;
const CMD_WRITE_CONTROL = 0x60;
const CMD_SELF_TEST = 0xaa;
const CMD_PULSE_RESET = 0xfe;

/** Ctrl, Alt, Del make codes in scancode set 2 (Del is an extended key: 0xe0 0x71), as Firecracker sends. */
export const CTRL_ALT_DEL = [0x14, 0x11, 0xe0, 0x71] as const;

export class I8042 implements Device {
  readonly name = 'i8042';
  readonly #onReset: () => void;
  readonly #irq: (level: boolean) => void;
  #control = 0x47;
  #status = STATUS_SYSTEM;
  /** Bytes for the guest to read from the data port, oldest first. */
  readonly #output: number[] = [];
  #pendingCommand = 0;

  constructor(onReset: () => void, irq: (level: boolean) => void = () => {}) {
    this.#onReset = onReset;
    this.#irq = irq;
  }

  /** Keyboard bytes, as if typed: queued for the data port, with an IRQ 1 edge. */
  keyboard(bytes: readonly number[]): void {
    this.#output.push(...bytes);
    this.#irq(true);
    this.#irq(false);
  }

  /** Offsets are relative to port 0x60: 0 is data, 4 is command/status. */
  read(offset: number, data: Uint8Array): void {
    data.fill(0);
    if (offset === 4) {
      data[0] = this.#status | (this.#output.length === 0 ? 0 : STATUS_OUTPUT_FULL);
    } else if (offset === 0) {
      data[0] = this.#output.shift() ?? 0;
      // More keyboard bytes waiting: another edge, as a controller raises IRQ 1 per byte.
      if (this.#output.length > 0) {
        this.#irq(true);
        this.#irq(false);
      }
    }
  }

  write(offset: number, data: Uint8Array): void {
    const value = data[0]!;
    if (offset === 4) {
      this.#status |= STATUS_COMMAND;
      switch (value) {
        case CMD_READ_CONTROL:
          this.#output.push(this.#control);
          break;
        case CMD_WRITE_CONTROL:
          this.#pendingCommand = value;
          break;
        case CMD_SELF_TEST:
          this.#output.push(0x55);
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
