// An 8250/16550A UART, the PC's COM1 at 0x3f8, IRQ 4: enough of it for Linux's 8250 driver, earlyprintk
// and small guests. Transmitted bytes go to `output` at once, so the transmitter is always empty;
// received bytes wait in a FIFO. The interrupt line is level-triggered and follows IIR, as in QEMU.
//
// One UART per machine, whichever vCPU touches it: its registers and FIFO live in a SharedArrayBuffer
// (SERIAL_STATE_BYTES) that every vCPU thread's Serial views, and each access holds the lock in it, so
// an SMP guest sees one device and its output leaves in the order the guest wrote it (the output sink
// is called under the lock: a single console ring stays single-producer).
import type { Device } from '../bus.js';

export const SERIAL_PORT = 0x3f8;
export const SERIAL_IRQ = 4;
export const SERIAL_PORT_COUNT = 8;

// Register offsets (DLAB selects the divisor latch at 0 and 1).
const DATA = 0;
const IER = 1;
const IIR_FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

const IER_RX_DATA = 0x01;
const IER_THR_EMPTY = 0x02;
const IER_MASK = 0x0f;

const IIR_NONE = 0x01;
const IIR_THR_EMPTY = 0x02;
const IIR_RX_DATA = 0x04;
const IIR_FIFO_ENABLED = 0xc0;

const FCR_ENABLE = 0x01;
const FCR_CLEAR_RX = 0x02;

const LCR_DLAB = 0x80;

const MCR_LOOPBACK = 0x10;
const MCR_MASK = 0x1f;

const LSR_DATA_READY = 0x01;
const LSR_OVERRUN = 0x02;
const LSR_THR_EMPTY = 0x20;
const LSR_IDLE = 0x40;

const MSR_CTS = 0x10;
const MSR_DSR = 0x20;
const MSR_RI = 0x40;
const MSR_DCD = 0x80;

/** How many received bytes wait before new ones are dropped (and LSR reports an overrun). */
export const RX_CAPACITY = 4096;

export interface SerialSinks {
  /** A byte the guest transmitted. */
  output(byte: number): void;
  /** The interrupt line's new level (called on changes only). */
  irq?(level: boolean): void;
}

// Int32 slots of the shared state; the receive FIFO's bytes follow them.
const LOCK = 0;
const S_IER = 1;
const S_LCR = 2;
const S_MCR = 3;
const S_LSR_ERRORS = 4;
const S_MSR = 5;
const S_SCR = 6;
const S_DIVISOR = 7;
const S_FIFO_ENABLED = 8;
const S_THR_INTERRUPT = 9;
const S_IRQ_LEVEL = 10;
const S_RX_HEAD = 11;
const S_RX_COUNT = 12;
const STATE_HEADER_BYTES = 64;

/** The size of the SharedArrayBuffer a UART's state lives in. */
export const SERIAL_STATE_BYTES = STATE_HEADER_BYTES + RX_CAPACITY;

/** A fresh UART state: 8N1, OUT2, 9600 baud, modem lines up, nothing received. */
export function serialState(): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(SERIAL_STATE_BYTES);
  const s = new Int32Array(buffer, 0, STATE_HEADER_BYTES / 4);
  s[S_LCR] = 0x03;
  s[S_MCR] = 0x08;
  s[S_MSR] = MSR_DCD | MSR_DSR | MSR_CTS;
  s[S_DIVISOR] = 12;
  return buffer;
}

export class Serial implements Device {
  readonly name = 'serial';
  readonly #sinks: SerialSinks;
  readonly #s: Int32Array;
  readonly #rxBytes: Uint8Array;

  /** `state` from serialState(), shared with the other vCPU threads' views of this UART; a fresh one when absent. */
  constructor(sinks: SerialSinks, state: SharedArrayBuffer = serialState()) {
    if (state.byteLength !== SERIAL_STATE_BYTES) throw new RangeError(`serial state of ${state.byteLength} bytes, expected ${SERIAL_STATE_BYTES}`);
    this.#sinks = sinks;
    this.#s = new Int32Array(state, 0, STATE_HEADER_BYTES / 4);
    this.#rxBytes = new Uint8Array(state, STATE_HEADER_BYTES, RX_CAPACITY);
  }

  /** Bytes typed at the console: they become readable from RBR, with an interrupt if enabled. */
  receive(bytes: Uint8Array): void {
    this.#locked(() => {
      for (const byte of bytes) {
        if (!this.#rxPush(byte)) {
          this.#s[S_LSR_ERRORS]! |= LSR_OVERRUN;
          break;
        }
      }
      this.#update();
    });
  }

  get pendingInput(): number {
    return Atomics.load(this.#s, S_RX_COUNT);
  }

  read(offset: number, data: Uint8Array): void {
    data.fill(0);
    data[0] = this.readRegister(offset);
  }

  write(offset: number, data: Uint8Array): void {
    this.writeRegister(offset, data[0]!);
  }

  readRegister(offset: number): number {
    return this.#locked(() => this.#readRegister(offset));
  }

  writeRegister(offset: number, value: number): void {
    this.#locked(() => this.#writeRegister(offset, value));
  }

  /** Holds the UART's lock across threads while `access` runs (a register access is short: spin, then sleep). */
  #locked<T>(access: () => T): T {
    const s = this.#s;
    for (let spins = 0; Atomics.compareExchange(s, LOCK, 0, 1) !== 0; spins++) {
      if (spins > 100) Atomics.wait(s, LOCK, 1, 1);
    }
    try {
      return access();
    } finally {
      Atomics.store(s, LOCK, 0);
      Atomics.notify(s, LOCK, 1);
    }
  }

  #rxPush(byte: number): boolean {
    const s = this.#s;
    if (s[S_RX_COUNT]! >= RX_CAPACITY) return false;
    this.#rxBytes[(s[S_RX_HEAD]! + s[S_RX_COUNT]!) % RX_CAPACITY] = byte;
    s[S_RX_COUNT]!++;
    return true;
  }

  #rxShift(): number | undefined {
    const s = this.#s;
    if (s[S_RX_COUNT] === 0) return undefined;
    const byte = this.#rxBytes[s[S_RX_HEAD]!]!;
    s[S_RX_HEAD] = (s[S_RX_HEAD]! + 1) % RX_CAPACITY;
    s[S_RX_COUNT]!--;
    return byte;
  }

  #readRegister(offset: number): number {
    const dlab = (this.#lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case DATA: {
        if (dlab) return this.#divisor & 0xff;
        const byte = this.#rxShift() ?? 0;
        this.#update();
        return byte;
      }
      case IER:
        return dlab ? this.#divisor >>> 8 : this.#ier;
      case IIR_FCR: {
        const iir = this.#iir();
        // Reading IIR acknowledges a THR-empty interrupt (8250 datasheet), not a data one.
        if ((iir & 0x0f) === IIR_THR_EMPTY) {
          this.#thrInterrupt = false;
          this.#update();
        }
        return iir | (this.#fifoEnabled ? IIR_FIFO_ENABLED : 0);
      }
      case LCR:
        return this.#lcr;
      case MCR:
        return this.#mcr;
      case LSR: {
        const lsr = LSR_THR_EMPTY | LSR_IDLE | (this.#s[S_RX_COUNT]! > 0 ? LSR_DATA_READY : 0) | this.#lsrErrors;
        this.#lsrErrors = 0; // error bits clear on read
        return lsr;
      }
      case MSR:
        if (this.#mcr & MCR_LOOPBACK) {
          // Loopback wires DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD.
          const m = this.#mcr;
          return ((m & 0x01) ? MSR_DSR : 0) | ((m & 0x02) ? MSR_CTS : 0) | ((m & 0x04) ? MSR_RI : 0) | ((m & 0x08) ? MSR_DCD : 0);
        }
        return this.#msr;
      case SCR:
        return this.#scr;
      default:
        return 0xff;
    }
  }

  #writeRegister(offset: number, value: number): void {
    const dlab = (this.#lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case DATA:
        if (dlab) {
          this.#divisor = (this.#divisor & 0xff00) | value;
          return;
        }
        if (this.#mcr & MCR_LOOPBACK) {
          if (!this.#rxPush(value)) this.#s[S_LSR_ERRORS]! |= LSR_OVERRUN;
        } else {
          this.#sinks.output(value);
        }
        // The byte left at once: the transmitter is empty again.
        this.#thrInterrupt = (this.#ier & IER_THR_EMPTY) !== 0;
        this.#update();
        return;
      case IER:
        if (dlab) {
          this.#divisor = (this.#divisor & 0xff) | (value << 8);
          return;
        }
        // Enabling ETBEI with an empty transmitter raises the interrupt at once (what drivers probe for).
        if (value & IER_THR_EMPTY && !(this.#ier & IER_THR_EMPTY)) this.#thrInterrupt = true;
        if (!(value & IER_THR_EMPTY)) this.#thrInterrupt = false;
        this.#ier = value & IER_MASK;
        this.#update();
        return;
      case IIR_FCR:
        this.#fifoEnabled = (value & FCR_ENABLE) !== 0;
        if (value & FCR_CLEAR_RX) this.#s[S_RX_COUNT] = 0;
        this.#update();
        return;
      case LCR:
        this.#lcr = value;
        return;
      case MCR:
        this.#mcr = value & MCR_MASK;
        return;
      case SCR:
        this.#scr = value;
        return;
      default:
        // LSR and MSR are read-only.
        return;
    }
  }

  get divisor(): number {
    return Atomics.load(this.#s, S_DIVISOR);
  }

  // The registers, in the shared state.
  get #ier(): number { return this.#s[S_IER]!; }
  set #ier(v: number) { this.#s[S_IER] = v; }
  get #lcr(): number { return this.#s[S_LCR]!; }
  set #lcr(v: number) { this.#s[S_LCR] = v; }
  get #mcr(): number { return this.#s[S_MCR]!; }
  set #mcr(v: number) { this.#s[S_MCR] = v; }
  get #lsrErrors(): number { return this.#s[S_LSR_ERRORS]!; }
  set #lsrErrors(v: number) { this.#s[S_LSR_ERRORS] = v; }
  get #msr(): number { return this.#s[S_MSR]!; }
  get #scr(): number { return this.#s[S_SCR]!; }
  set #scr(v: number) { this.#s[S_SCR] = v; }
  get #divisor(): number { return this.#s[S_DIVISOR]!; }
  set #divisor(v: number) { this.#s[S_DIVISOR] = v; }
  get #fifoEnabled(): boolean { return this.#s[S_FIFO_ENABLED] !== 0; }
  set #fifoEnabled(v: boolean) { this.#s[S_FIFO_ENABLED] = v ? 1 : 0; }
  /** THR-empty interrupt pending: set when the transmitter empties with ETBEI on, cleared by reading IIR or writing THR. */
  get #thrInterrupt(): boolean { return this.#s[S_THR_INTERRUPT] !== 0; }
  set #thrInterrupt(v: boolean) { this.#s[S_THR_INTERRUPT] = v ? 1 : 0; }
  get #irqLevel(): boolean { return this.#s[S_IRQ_LEVEL] !== 0; }
  set #irqLevel(v: boolean) { this.#s[S_IRQ_LEVEL] = v ? 1 : 0; }


  #iir(): number {
    if (this.#ier & IER_RX_DATA && this.#s[S_RX_COUNT]! > 0) return IIR_RX_DATA;
    if (this.#thrInterrupt) return IIR_THR_EMPTY;
    return IIR_NONE;
  }

  #update(): void {
    const level = this.#iir() !== IIR_NONE;
    if (level !== this.#irqLevel) {
      this.#irqLevel = level;
      this.#sinks.irq?.(level);
    }
  }
}
