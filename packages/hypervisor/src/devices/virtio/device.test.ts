import { describe, expect, it } from 'vitest';
import { VirtioRng } from '../virtio-rng/device.js';
import { VirtioMmioDevice } from './device.js';
import { DESC_F_NEXT, Reg, Status } from './spec.js';
import { MockDriver, RegisterPort, TEST_LAYOUT, VERSION_1 } from './testing.js';
import { MmioTransport } from './transport.js';

async function until(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function rngDevice() {
  const driver = new MockDriver();
  let interrupts = 0;
  const errors: string[] = [];
  const device = new VirtioMmioDevice(new VirtioRng(), { base: 0xd000_0000, size: 0x1000, irq: 5 }, driver.ram, {
    interrupt: () => interrupts++,
    onDeviceError: (reason) => errors.push(reason),
  });
  const port = new RegisterPort(new MmioTransport(device.slot));
  device.start();
  return { driver, device, port, errors, interrupts: () => interrupts };
}

describe('a virtio device behind the transport (virtio-rng)', () => {
  it('fills the buffers the driver offers, returns them used and raises an interrupt', async () => {
    const { driver, device, port, interrupts } = rngDevice();
    try {
      expect(port.initialize(VERSION_1, [TEST_LAYOUT]) & Status.DRIVER_OK).toBeTruthy();
      const a = driver.alloc(64);
      const b = driver.alloc(32);
      driver.offer(driver.chain([{ address: a, length: 64, write: true }, { address: b, length: 32, write: true }]));
      port.write(Reg.QUEUE_NOTIFY, 0);
      await until('a used entry', () => interrupts() > 0);
      expect(driver.takeUsed()).toEqual([{ id: 0, length: 96 }]);
      expect(driver.bytes(a, 64).some((x) => x !== 0)).toBe(true);
      expect(driver.bytes(b, 32).some((x) => x !== 0)).toBe(true);
      expect(port.read(Reg.INTERRUPT_STATUS)).toBe(1);
      port.write(Reg.INTERRUPT_ACK, 1);
      expect(port.read(Reg.INTERRUPT_STATUS)).toBe(0);
    } finally {
      await device.stop();
    }
  });

  it('serves nothing before DRIVER_OK', async () => {
    const { driver, device, port } = rngDevice();
    try {
      driver.offer(driver.chain([{ address: driver.alloc(8), length: 8, write: true }]));
      port.write(Reg.QUEUE_NOTIFY, 0);
      await new Promise((r) => setTimeout(r, 20));
      expect(driver.takeUsed()).toEqual([]);
    } finally {
      await device.stop();
    }
  });

  it('needs a reset after a malformed chain, and works again once the driver resets it', async () => {
    const { driver, device, port, errors, interrupts } = rngDevice();
    try {
      port.initialize(VERSION_1, [TEST_LAYOUT]);
      driver.setDescriptor(0, { address: 0x10000, length: 8, flags: DESC_F_NEXT, next: 0 });
      driver.offer(0);
      port.write(Reg.QUEUE_NOTIFY, 0);
      await until('NEEDS_RESET', () => (port.read(Reg.STATUS) & Status.DEVICE_NEEDS_RESET) !== 0);
      expect(errors).toEqual([expect.stringMatching(/queue 0: the chain from head 0 loops/)]);
      expect(device.lastError).toMatch(/loops/);
      await until('the config-change interrupt', () => interrupts() === 1);
      expect(port.read(Reg.INTERRUPT_STATUS)).toBe(2);
      expect(driver.takeUsed()).toEqual([]);

      driver.restart();
      expect(port.initialize(VERSION_1, [TEST_LAYOUT])).toBe(Status.ACKNOWLEDGE | Status.DRIVER | Status.FEATURES_OK | Status.DRIVER_OK);
      driver.offer(driver.chain([{ address: driver.alloc(8), length: 8, write: true }]));
      port.write(Reg.QUEUE_NOTIFY, 0);
      await until('a used entry after the reset', () => driver.takeUsed().length === 1);
    } finally {
      await device.stop();
    }
  });

  it('needs a reset when the queue rings are not in RAM', async () => {
    const { device, port } = rngDevice();
    try {
      port.initialize(VERSION_1, [{ ...TEST_LAYOUT, used: 0x7fff_f000 }]);
      await until('NEEDS_RESET', () => (port.read(Reg.STATUS) & Status.DEVICE_NEEDS_RESET) !== 0);
      expect(device.lastError).toMatch(/used ring at 0x7ffff000 is not in guest RAM/);
    } finally {
      await device.stop();
    }
  });

  it('raises no interrupt when the driver asked for none', async () => {
    const { driver, device, port, interrupts } = rngDevice();
    try {
      port.initialize(VERSION_1, [TEST_LAYOUT]);
      driver.setAvailFlags(1);
      driver.offer(driver.chain([{ address: driver.alloc(8), length: 8, write: true }]));
      port.write(Reg.QUEUE_NOTIFY, 0);
      await until('a used entry', () => driver.takeUsed().length === 1);
      await new Promise((r) => setTimeout(r, 5));
      expect(interrupts()).toBe(0);
    } finally {
      await device.stop();
    }
  });
});
