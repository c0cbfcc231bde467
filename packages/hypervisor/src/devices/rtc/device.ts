// A minimal MC146818 CMOS RTC at ports 0x70 (index, bit 7 masks NMIs) and 0x71 (data): the time of
// day in BCD, 24-hour mode, never updating (UIP clear), and 128 bytes of CMOS RAM for the rest.
import type { Device } from '../bus.js';

export const RTC_PORT = 0x70;
export const RTC_PORT_COUNT = 2;

const SECONDS = 0x00;
const MINUTES = 0x02;
const HOURS = 0x04;
const WEEKDAY = 0x06;
const DAY = 0x07;
const MONTH = 0x08;
const YEAR = 0x09;
const STATUS_A = 0x0a;
const STATUS_B = 0x0b;
const STATUS_C = 0x0c;
const STATUS_D = 0x0d;
const CENTURY = 0x32;

function bcd(value: number): number {
  return ((Math.floor(value / 10) % 10) << 4) | value % 10;
}

export class Rtc implements Device {
  readonly name = 'rtc';
  readonly #now: () => Date;
  readonly #ram = new Uint8Array(128);
  #index = 0;

  constructor(now: () => Date = () => new Date()) {
    this.#now = now;
    this.#ram[STATUS_A] = 0x26; // 32.768 kHz time base, 1024 Hz rate
    this.#ram[STATUS_B] = 0x02; // 24-hour, BCD
    this.#ram[STATUS_D] = 0x80; // valid RAM and time
  }

  read(offset: number, data: Uint8Array): void {
    data.fill(0);
    data[0] = offset === 1 ? this.register(this.#index) : this.#index;
  }

  write(offset: number, data: Uint8Array): void {
    if (offset === 0) this.#index = data[0]! & 0x7f;
    else if (this.#index > STATUS_D || this.#index === STATUS_A || this.#index === STATUS_B) this.#ram[this.#index] = data[0]!;
  }

  register(index: number): number {
    const t = this.#now();
    switch (index) {
      case SECONDS:
        return bcd(t.getUTCSeconds());
      case MINUTES:
        return bcd(t.getUTCMinutes());
      case HOURS:
        return bcd(t.getUTCHours());
      case WEEKDAY:
        return bcd(t.getUTCDay() + 1);
      case DAY:
        return bcd(t.getUTCDate());
      case MONTH:
        return bcd(t.getUTCMonth() + 1);
      case YEAR:
        return bcd(t.getUTCFullYear() % 100);
      case CENTURY:
        return bcd(Math.floor(t.getUTCFullYear() / 100));
      case STATUS_C:
        return 0;
      default:
        return this.#ram[index & 0x7f]!;
    }
  }
}
