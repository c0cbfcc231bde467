// The legacy PC devices every VM has, on their usual ports, wired to the hooks of whoever runs the vCPU:
// COM1 (serial, IRQ 4), the debug-exit port for test guests, the i8042 (reset, Ctrl+Alt+Del; IRQ 1) and
// the CMOS RTC.
// Built inside the vCPU worker, so a port access is a function call, not a message.
import { Bus } from '../devices/bus.js';
import { DEBUG_EXIT_PORT, DEBUG_EXIT_PORT_COUNT, DebugExit } from '../devices/debug-exit/device.js';
import { I8042, I8042_DATA_PORT, I8042_IRQ } from '../devices/i8042/device.js';
import { Rtc, RTC_PORT, RTC_PORT_COUNT } from '../devices/rtc/device.js';
import { SERIAL_IRQ, SERIAL_PORT, SERIAL_PORT_COUNT, Serial } from '../devices/serial/device.js';
import { MmioTransport, type VirtioMmioSlot } from '../devices/virtio/transport.js';

export interface PlatformConfig {
  /** Give the guest the debug-exit port at 0x501 (test guests). */
  debugExit: boolean;
  /** The 8250's state (serialState()), shared by every vCPU thread's view of the one UART; a UART of its own when absent. */
  serial?: SharedArrayBuffer;
  /** Virtio-mmio transports: their registers are handled on this thread, their queues elsewhere. */
  virtio?: VirtioMmioSlot[];
}

export interface PlatformHooks {
  consoleOutput(byte: number): void;
  irqLine(irq: number, level: boolean): void;
  /** The guest wrote `status` to the debug-exit port. */
  exit(status: number): void;
  /** The guest asked for a reset through the i8042. */
  reset(): void;
}

export interface Platform {
  pio: Bus;
  mmio: Bus;
  serial: Serial;
  i8042: I8042;
}

export function buildPlatform(config: PlatformConfig, hooks: PlatformHooks): Platform {
  const pio = new Bus('pio');
  const mmio = new Bus('mmio');
  const serial = new Serial({ output: hooks.consoleOutput, irq: (level) => hooks.irqLine(SERIAL_IRQ, level) }, config.serial);
  pio.register(SERIAL_PORT, SERIAL_PORT_COUNT, serial);
  if (config.debugExit) pio.register(DEBUG_EXIT_PORT, DEBUG_EXIT_PORT_COUNT, new DebugExit(hooks.exit));
  const i8042 = new I8042(hooks.reset, (level) => hooks.irqLine(I8042_IRQ, level));
  pio.register(I8042_DATA_PORT, 5, i8042);
  pio.register(RTC_PORT, RTC_PORT_COUNT, new Rtc());
  for (const slot of config.virtio ?? []) mmio.register(slot.base, slot.size, new MmioTransport(slot));
  return { pio, mmio, serial, i8042 };
}
