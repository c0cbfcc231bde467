// The registers of one virtio-mmio transport, in a SharedArrayBuffer: vCPU threads handle the guest's
// register accesses (transport.ts), the device thread serves the queues (device.ts), and both see the
// same status, features, queue layout and interrupt status. Words change only through Atomics.
import type { QueueLayout } from './queue.js';

const STATUS = 0;
const DEVICE_FEATURES_SEL = 1;
const DRIVER_FEATURES_SEL = 2;
const DRIVER_FEATURES_LO = 3;
const DRIVER_FEATURES_HI = 4;
const QUEUE_SEL = 5;
const INTERRUPT_STATUS = 6;
const CONFIG_GENERATION = 7;
/** Bumped at each reset: the device thread drops queues and in-flight work of an older epoch. */
const EPOCH = 8;
/** Bumped (and Atomics.notify'd) whenever the device thread has something to look at. */
const KICK = 9;
const QUEUE_BASE = 16;
const QUEUE_STRIDE = 8;
const Q_NUM = 0;
const Q_READY = 1;
const Q_DESC = 2;
const Q_AVAIL = 4;
const Q_USED = 6;

export const MAX_QUEUES = 8;

// Atomics.waitAsync (Node 16+) is in the ES2024 lib, past the ES2023 this repo compiles against.
type WaitAsync = (array: Int32Array, index: number, value: number) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync: WaitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
const WORDS = QUEUE_BASE + MAX_QUEUES * QUEUE_STRIDE;

/** Which 32-bit half of a queue address a register write sets. */
export type QueueAddress = 'desc' | 'avail' | 'used';
const ADDRESS_WORD: Record<QueueAddress, number> = { desc: Q_DESC, avail: Q_AVAIL, used: Q_USED };

export class TransportState {
  readonly buffer: SharedArrayBuffer;
  readonly #w: Int32Array;

  constructor(buffer = new SharedArrayBuffer(WORDS * 4)) {
    this.buffer = buffer;
    this.#w = new Int32Array(buffer);
  }

  #get(i: number): number {
    return Atomics.load(this.#w, i) >>> 0;
  }

  #set(i: number, v: number): void {
    Atomics.store(this.#w, i, v | 0);
  }

  get status(): number {
    return this.#get(STATUS);
  }

  /** Replaces the status unless it changed meanwhile (the device thread may set NEEDS_RESET). */
  swapStatus(expected: number, next: number): boolean {
    return Atomics.compareExchange(this.#w, STATUS, expected | 0, next | 0) >>> 0 === expected;
  }

  orStatus(bits: number): void {
    Atomics.or(this.#w, STATUS, bits);
  }

  get deviceFeaturesSel(): number {
    return this.#get(DEVICE_FEATURES_SEL);
  }
  set deviceFeaturesSel(v: number) {
    this.#set(DEVICE_FEATURES_SEL, v);
  }

  get driverFeaturesSel(): number {
    return this.#get(DRIVER_FEATURES_SEL);
  }
  set driverFeaturesSel(v: number) {
    this.#set(DRIVER_FEATURES_SEL, v);
  }

  get driverFeatures(): bigint {
    return (BigInt(this.#get(DRIVER_FEATURES_HI)) << 32n) | BigInt(this.#get(DRIVER_FEATURES_LO));
  }

  setDriverFeatureWord(sel: number, v: number): void {
    if (sel <= 1) this.#set(sel === 0 ? DRIVER_FEATURES_LO : DRIVER_FEATURES_HI, v);
  }

  get queueSel(): number {
    return this.#get(QUEUE_SEL);
  }
  set queueSel(v: number) {
    this.#set(QUEUE_SEL, v);
  }

  get interruptStatus(): number {
    return this.#get(INTERRUPT_STATUS);
  }

  raiseInterrupt(bits: number): void {
    Atomics.or(this.#w, INTERRUPT_STATUS, bits);
  }

  ackInterrupt(bits: number): void {
    Atomics.and(this.#w, INTERRUPT_STATUS, ~bits);
  }

  get configGeneration(): number {
    return this.#get(CONFIG_GENERATION);
  }

  get epoch(): number {
    return this.#get(EPOCH);
  }

  queueNum(q: number): number {
    return this.#get(QUEUE_BASE + q * QUEUE_STRIDE + Q_NUM);
  }
  setQueueNum(q: number, v: number): void {
    this.#set(QUEUE_BASE + q * QUEUE_STRIDE + Q_NUM, v);
  }

  queueReady(q: number): boolean {
    return this.#get(QUEUE_BASE + q * QUEUE_STRIDE + Q_READY) === 1;
  }
  setQueueReady(q: number, ready: boolean): void {
    this.#set(QUEUE_BASE + q * QUEUE_STRIDE + Q_READY, ready ? 1 : 0);
  }

  setQueueAddress(q: number, which: QueueAddress, high: boolean, v: number): void {
    this.#set(QUEUE_BASE + q * QUEUE_STRIDE + ADDRESS_WORD[which] + (high ? 1 : 0), v);
  }

  queueLayout(q: number): QueueLayout {
    const base = QUEUE_BASE + q * QUEUE_STRIDE;
    const address = (word: number) => this.#get(base + word + 1) * 0x1_0000_0000 + this.#get(base + word);
    return { size: this.queueNum(q), desc: address(Q_DESC), avail: address(Q_AVAIL), used: address(Q_USED) };
  }

  /** Back to the power-on state (status 0, no features, no queues), in a new epoch. */
  reset(queueMax: readonly number[]): void {
    for (let i = 0; i < WORDS; i++) if (i !== EPOCH && i !== KICK && i !== CONFIG_GENERATION) this.#set(i, 0);
    queueMax.forEach((max, q) => this.setQueueNum(q, max));
    Atomics.add(this.#w, EPOCH, 1);
    this.kick();
  }

  /** Wakes the device thread. */
  kick(): void {
    Atomics.add(this.#w, KICK, 1);
    Atomics.notify(this.#w, KICK);
  }

  get kicks(): number {
    return this.#get(KICK);
  }

  /** Resolves when kick() was called after the device thread read `seen` from `kicks`. */
  waitForKick(seen: number): Promise<unknown> | undefined {
    const wait = waitAsync(this.#w, KICK, seen | 0);
    return wait.async ? wait.value : undefined;
  }
}
