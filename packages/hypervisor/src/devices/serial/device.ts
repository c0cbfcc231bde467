// An 8250/16550A UART, the PC's COM1 at 0x3f8, IRQ 4: enough of it for Linux's 8250 driver, earlyprintk
// and small guests. Transmitted bytes go to `output` at once, so the transmitter is always empty;
// received bytes wait in a FIFO. The interrupt line is level-triggered and follows IIR, as in QEMU.
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

export class Serial implements Device {
  readonly name = 'serial';
  readonly #sinks: SerialSinks;
  #ier = 0;
  #lcr = 0x03; // 8N1
  #mcr = 0x08; // OUT2
  #lsrErrors = 0;
  #msr = MSR_DCD | MSR_DSR | MSR_CTS;
  #scr = 0;
  #divisor = 12; // 9600 baud
  #fifoEnabled = false;
  /** THR-empty interrupt pending: set when the transmitter empties with ETBEI on, cleared by reading IIR or writing THR. */
  #thrInterrupt = false;
  readonly #rx: number[] = [];
  #irqLevel = false;

  constructor(sinks: SerialSinks) {
    this.#sinks = sinks;
  }

  /** Bytes typed at the console: they become readable from RBR, with an interrupt if enabled. */
  receive(bytes: Uint8Array): void {
    for (const byte of bytes) {
      if (this.#rx.length >= RX_CAPACITY) {
        this.#lsrErrors |= LSR_OVERRUN;
        break;
      }
      this.#rx.push(byte);
    }
    this.#update();
  }

  get pendingInput(): number {
    return this.#rx.length;
  }

  read(offset: number, data: Uint8Array): void {
    data.fill(0);
    data[0] = this.readRegister(offset);
  }

  write(offset: number, data: Uint8Array): void {
    this.writeRegister(offset, data[0]!);
  }

  readRegister(offset: number): number {
    const dlab = (this.#lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case DATA: {
        if (dlab) return this.#divisor & 0xff;
        const byte = this.#rx.shift() ?? 0;
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
        const lsr = LSR_THR_EMPTY | LSR_IDLE | (this.#rx.length > 0 ? LSR_DATA_READY : 0) | this.#lsrErrors;
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

  writeRegister(offset: number, value: number): void {
    const dlab = (this.#lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case DATA:
        if (dlab) {
          this.#divisor = (this.#divisor & 0xff00) | value;
          return;
        }
        if (this.#mcr & MCR_LOOPBACK) {
          if (this.#rx.length < RX_CAPACITY) this.#rx.push(value);
          else this.#lsrErrors |= LSR_OVERRUN;
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
        if (value & FCR_CLEAR_RX) this.#rx.length = 0;
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
    return this.#divisor;
  }

  #iir(): number {
    if (this.#ier & IER_RX_DATA && this.#rx.length > 0) return IIR_RX_DATA;
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
