import { describe, expect, it } from 'vitest';
import { MmioTransport, type VirtioMmioSlot } from './transport.js';
import { TransportState } from './state.js';
import { Feature, features, MMIO_MAGIC, Reg, Status } from './spec.js';
import { RegisterPort, TEST_LAYOUT, VERSION_1 } from './testing.js';

const DEVICE_FEATURES = features(Feature.VERSION_1, Feature.RING_INDIRECT_DESC, 5);

function transport(): { port: RegisterPort; state: TransportState; slot: VirtioMmioSlot } {
  const state = new TransportState();
  state.reset([16, 8]);
  const slot: VirtioMmioSlot = {
    name: 'test',
    base: 0xd000_0000,
    size: 0x1000,
    irq: 5,
    deviceId: 4,
    features: DEVICE_FEATURES,
    queueMax: [16, 8],
    config: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]),
    state: state.buffer,
  };
  return { port: new RegisterPort(new MmioTransport(slot)), state, slot };
}

describe('the virtio-mmio transport', () => {
  it('identifies itself as a version 2 transport of its device', () => {
    const { port } = transport();
    expect(port.read(Reg.MAGIC)).toBe(MMIO_MAGIC);
    expect(port.read(Reg.VERSION)).toBe(2);
    expect(port.read(Reg.DEVICE_ID)).toBe(4);
    expect(port.read(Reg.VENDOR_ID)).toBe(0x4c4f5349);
    port.write(Reg.DEVICE_FEATURES_SEL, 0);
    expect(port.read(Reg.DEVICE_FEATURES)).toBe((1 << 28) | (1 << 5));
    port.write(Reg.DEVICE_FEATURES_SEL, 1);
    expect(port.read(Reg.DEVICE_FEATURES)).toBe(1);
    port.write(Reg.DEVICE_FEATURES_SEL, 7);
    expect(port.read(Reg.DEVICE_FEATURES)).toBe(0);
    port.write(Reg.QUEUE_SEL, 1);
    expect(port.read(Reg.QUEUE_NUM_MAX)).toBe(8);
    port.write(Reg.QUEUE_SEL, 2);
    expect(port.read(Reg.QUEUE_NUM_MAX)).toBe(0);
    expect(port.read(Reg.SHM_LEN_LOW)).toBe(0xffffffff);
  });

  it('reads the config space at any width, and zeros past its end', () => {
    const { port } = transport();
    expect(port.read(Reg.CONFIG, 1)).toBe(1);
    expect(port.read(Reg.CONFIG + 2, 2)).toBe(0x0403);
    expect(port.read(Reg.CONFIG + 4, 4)).toBe(0x08070605);
    expect(port.read(Reg.CONFIG + 6, 4)).toBe(0x0807);
    expect(port.read(Reg.CONFIG + 0x100, 4)).toBe(0);
  });

  it('takes FEATURES_OK only for a subset of its features that includes VERSION_1', () => {
    const { port } = transport();
    expect(port.initialize(0n, [])).toBe(Status.ACKNOWLEDGE | Status.DRIVER);
    expect(port.initialize(VERSION_1 | (1n << 6n), [])).toBe(Status.ACKNOWLEDGE | Status.DRIVER);
    expect(port.initialize(VERSION_1 | (1n << 5n), [TEST_LAYOUT])).toBe(Status.ACKNOWLEDGE | Status.DRIVER | Status.FEATURES_OK | Status.DRIVER_OK);
  });

  it('ignores status bits out of order, and NEEDS_RESET from the driver', () => {
    const { port } = transport();
    port.write(Reg.STATUS, Status.DRIVER);
    expect(port.read(Reg.STATUS)).toBe(0);
    port.write(Reg.STATUS, Status.ACKNOWLEDGE | Status.DRIVER | Status.DRIVER_OK);
    expect(port.read(Reg.STATUS)).toBe(0);
    port.write(Reg.STATUS, Status.ACKNOWLEDGE | Status.DEVICE_NEEDS_RESET);
    expect(port.read(Reg.STATUS)).toBe(Status.ACKNOWLEDGE);
  });

  it('keeps the queue layout the driver wrote, and ignores writes while the queue is ready', () => {
    const { port, state } = transport();
    port.initialize(VERSION_1, [TEST_LAYOUT]);
    expect(state.queueLayout(0)).toEqual(TEST_LAYOUT);
    expect(port.read(Reg.QUEUE_READY)).toBe(1);
    port.write(Reg.QUEUE_SEL, 0);
    port.write(Reg.QUEUE_DESC_LOW, 0x9000);
    port.write(Reg.QUEUE_NUM, 4);
    expect(state.queueLayout(0)).toEqual(TEST_LAYOUT);
  });

  it('resets to the power-on state in a new epoch when the driver writes status 0', () => {
    const { port, state } = transport();
    port.initialize(VERSION_1, [TEST_LAYOUT]);
    state.raiseInterrupt(1);
    const epoch = state.epoch;
    port.write(Reg.STATUS, 0);
    expect(port.read(Reg.STATUS)).toBe(0);
    expect(port.read(Reg.INTERRUPT_STATUS)).toBe(0);
    expect(port.read(Reg.QUEUE_READY)).toBe(0);
    expect(state.driverFeatures).toBe(0n);
    expect(state.queueLayout(0)).toEqual({ size: 16, desc: 0, avail: 0, used: 0 });
    expect(state.epoch).toBe(epoch + 1);
  });

  it('clears the interrupt bits the driver acknowledges', () => {
    const { port, state } = transport();
    state.raiseInterrupt(3);
    port.write(Reg.INTERRUPT_ACK, 1);
    expect(port.read(Reg.INTERRUPT_STATUS)).toBe(2);
  });

  it('ignores register accesses that are not whole aligned words', () => {
    const { port } = transport();
    expect(port.read(Reg.MAGIC, 2)).toBe(0);
    expect(port.read(Reg.MAGIC + 1, 4)).toBe(0);
    port.write(Reg.STATUS, Status.ACKNOWLEDGE, 1);
    expect(port.read(Reg.STATUS)).toBe(0);
  });

  it('survives a guest writing random values at random offsets and widths', () => {
    const { port, state } = transport();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0);
    for (let i = 0; i < 100_000; i++) {
      const width = [1, 2, 4, 8][random() % 4]!;
      const offset = random() % 0x1000;
      if (random() % 2) port.write(offset, random(), width);
      else port.read(offset, width);
    }
    expect(port.read(Reg.MAGIC)).toBe(MMIO_MAGIC);
    expect(state.queueLayout(0).size).toBeLessThanOrEqual(0xffffffff);
  });
});
