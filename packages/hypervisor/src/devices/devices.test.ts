// The small legacy devices and the bus that routes to them.
import { describe, expect, it } from 'vitest';
import { Bus } from './bus.js';
import { DebugExit } from './debug-exit/device.js';
import { CTRL_ALT_DEL, I8042 } from './i8042/device.js';
import { Rtc } from './rtc/device.js';

describe('Bus', () => {
  it('routes by range with device-relative offsets, answers unclaimed reads with ones, refuses overlaps', () => {
    const bus = new Bus('pio');
    const seen: string[] = [];
    bus.register(0x70, 2, { name: 'a', read: (o, d) => void d.fill(o), write: (o, d) => void seen.push(`a${o}=${d[0]}`) });
    const data = new Uint8Array(2);
    expect(bus.read(0x71, data)).toBe(true);
    expect([...data]).toEqual([1, 1]);
    expect(bus.read(0x72, data)).toBe(false);
    expect([...data]).toEqual([0xff, 0xff]);
    bus.write(0x70, Uint8Array.of(9));
    expect(seen).toEqual(['a0=9']);
    expect(() => bus.register(0x71, 4, { name: 'b', read: () => {}, write: () => {} })).toThrow(/overlaps a at 0x70/);
  });

  it('dispatches ports through its flat table up to 0xffff and refuses ranges past it', () => {
    const bus = new Bus('pio');
    const seen: string[] = [];
    bus.register(0xfffe, 2, { name: 'top', read: (o, d) => void d.fill(0x10 + o), write: (o, d) => void seen.push(`top${o}=${d[0]}`) });
    bus.register(0, 1, { name: 'zero', read: (_, d) => void d.fill(7), write: () => {} });
    const data = new Uint8Array(1);
    expect(bus.read(0xffff, data)).toBe(true);
    expect(data[0]).toBe(0x11);
    expect(bus.read(0, data)).toBe(true);
    expect(data[0]).toBe(7);
    expect(bus.write(0xfffd, data)).toBe(false);
    expect(bus.read(0x10000, data)).toBe(false);
    expect(bus.find(0xfffe)).toMatchObject({ offset: 0 });
    expect(() => bus.register(0xffff0, 4, { name: 'far', read: () => {}, write: () => {} })).toThrow(/ports are 0 to 0xffff/);
  });

  it('finds MMIO devices that share a page or span several', () => {
    const bus = new Bus('mmio');
    const names = (address: number) => bus.find(address) && `${bus.find(address)!.device.name}+${bus.find(address)!.offset}`;
    const device = (name: string) => ({ name, read: () => {}, write: () => {} });
    bus.register(0xd000_0000, 0x200, device('a'));
    bus.register(0xd000_0200, 0x200, device('b'));
    bus.register(0xd000_0f00, 0x2000, device('wide'));
    bus.register(0x1_0000_0000, 0x10, device('high'));
    expect(names(0xd000_01ff)).toBe('a+511');
    expect(names(0xd000_0200)).toBe('b+0');
    expect(names(0xd000_0400)).toBeUndefined();
    expect(names(0xd000_0f00)).toBe('wide+0');
    expect(names(0xd000_2eff)).toBe('wide+8191');
    expect(names(0xd000_2f00)).toBeUndefined();
    expect(names(0x1_0000_000f)).toBe('high+15');
    const data = new Uint8Array(4);
    expect(bus.read(0xe000_0000, data)).toBe(false);
    expect([...data]).toEqual([0xff, 0xff, 0xff, 0xff]);
  });
});

describe('debug-exit', () => {
  it('ends with the value written, at any width', () => {
    const statuses: number[] = [];
    const port = new DebugExit((s) => statuses.push(s));
    port.write(0, Uint8Array.of(0x2a));
    port.write(0, Uint8Array.of(0x34, 0x12));
    expect(statuses).toEqual([0x2a, 0x1234]);
  });
});

describe('i8042', () => {
  it('resets on 0xfe to the command port and answers the self-test and controller byte', () => {
    let resets = 0;
    const kbd = new I8042(() => resets++);
    const data = new Uint8Array(1);
    kbd.write(4, Uint8Array.of(0xaa));
    kbd.read(4, data);
    expect(data[0]! & 1).toBe(1);
    kbd.read(0, data);
    expect(data[0]).toBe(0x55);
    kbd.write(4, Uint8Array.of(0x60));
    kbd.write(0, Uint8Array.of(0x12));
    kbd.write(4, Uint8Array.of(0x20));
    kbd.read(0, data);
    expect(data[0]).toBe(0x12);
    expect(resets).toBe(0);
    kbd.write(4, Uint8Array.of(0xfe));
    expect(resets).toBe(1);
  });
});

describe('i8042 power-off request', () => {
  it('queues Ctrl+Alt+Del as scancode set 2 make codes, with an IRQ 1 edge per byte, read through the data port', () => {
    const edges: boolean[] = [];
    const kbd = new I8042(() => {}, (level) => edges.push(level));
    const data = new Uint8Array(1);
    kbd.keyboard(CTRL_ALT_DEL);
    const read: number[] = [];
    for (;;) {
      kbd.read(4, data);
      if (!(data[0]! & 1)) break;
      kbd.read(0, data);
      read.push(data[0]!);
    }
    expect(read).toEqual([0x14, 0x11, 0xe0, 0x71]);
    // One edge when the bytes arrive, one more for each byte still waiting after a read.
    expect(edges).toEqual([true, false, true, false, true, false, true, false]);
  });
});

describe('rtc', () => {
  it('reads the time in BCD through the index and data ports, and keeps CMOS RAM', () => {
    const rtc = new Rtc(() => new Date(Date.UTC(2024, 1, 29, 23, 58, 7)));
    const at = (index: number) => {
      const data = new Uint8Array(1);
      rtc.write(0, Uint8Array.of(index | 0x80)); // NMI mask bit is not part of the index
      rtc.read(1, data);
      return data[0];
    };
    expect([at(0), at(2), at(4), at(7), at(8), at(9), at(0x32)]).toEqual([0x07, 0x58, 0x23, 0x29, 0x02, 0x24, 0x20]);
    expect(at(0x0a)! & 0x80).toBe(0); // no update in progress
    expect(at(0x0b)).toBe(0x02);
    expect(at(0x0d)).toBe(0x80);
    rtc.write(0, Uint8Array.of(0x40));
    rtc.write(1, Uint8Array.of(0x99));
    expect(at(0x40)).toBe(0x99);
    rtc.write(0, Uint8Array.of(0x00));
    rtc.write(1, Uint8Array.of(0x99)); // the clock is not settable
    expect(at(0)).toBe(0x07);
  });
});
