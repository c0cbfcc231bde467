import { describe, expect, it } from 'vitest';
import { RX_CAPACITY, Serial, serialState } from './device.js';

function uart() {
  const out: number[] = [];
  const irqs: boolean[] = [];
  const serial = new Serial({ output: (b) => out.push(b), irq: (level) => irqs.push(level) });
  return { serial, out, irqs, r: (o: number) => serial.readRegister(o), w: (o: number, v: number) => serial.writeRegister(o, v) };
}

describe('8250 UART', () => {
  it('transmits THR writes at once and always reports the transmitter empty', () => {
    const u = uart();
    for (const c of 'hi\n') u.w(0, c.charCodeAt(0));
    expect(Buffer.from(u.out).toString()).toBe('hi\n');
    expect(u.r(5) & 0x60).toBe(0x60);
    expect(u.r(2)).toBe(0x01); // no interrupt pending
    expect(u.irqs).toEqual([]);
  });

  it('maps the divisor latch over RBR/THR and IER while LCR.DLAB is set', () => {
    const u = uart();
    u.w(1, 0x05); // IER
    u.w(3, 0x83); // DLAB, 8N1
    u.w(0, 0x01); // DLL: 115200 baud
    u.w(1, 0x00); // DLM
    expect(u.r(0)).toBe(0x01);
    expect(u.r(1)).toBe(0x00);
    expect(u.serial.divisor).toBe(1);
    expect(u.out).toEqual([]); // the DLL write was not a byte to send
    u.w(3, 0x03);
    expect(u.r(1)).toBe(0x05); // IER is back, unchanged
    expect(u.r(3)).toBe(0x03);
  });

  it('raises a THR-empty interrupt when ETBEI is enabled, clears it on reading IIR, re-arms on THR writes', () => {
    const u = uart();
    u.w(1, 0x02);
    expect(u.irqs).toEqual([true]);
    expect(u.r(2)).toBe(0x02);
    expect(u.irqs).toEqual([true, false]);
    expect(u.r(2)).toBe(0x01);
    u.w(0, 0x41);
    expect(u.irqs).toEqual([true, false, true]);
    u.w(1, 0x00);
    expect(u.irqs).toEqual([true, false, true, false]);
  });

  it('receives input: DR in LSR, RBR in order, a data interrupt that outranks THR-empty', () => {
    const u = uart();
    u.serial.receive(Uint8Array.of(0x61, 0x62));
    expect(u.r(5) & 0x01).toBe(0x01);
    expect(u.irqs).toEqual([]); // ERBFI off
    u.w(1, 0x03);
    expect(u.irqs).toEqual([true]);
    expect(u.r(2)).toBe(0x04);
    expect(u.r(0)).toBe(0x61);
    expect(u.r(0)).toBe(0x62);
    expect(u.r(5) & 0x01).toBe(0);
    expect(u.r(2)).toBe(0x02); // THR empty is still pending
    expect(u.r(2)).toBe(0x01);
    expect(u.irqs).toEqual([true, false]);
  });

  it('reports FIFOs in IIR after FCR enables them, and FCR clears the receive FIFO', () => {
    const u = uart();
    u.serial.receive(Uint8Array.of(1, 2, 3));
    u.w(2, 0x07);
    expect(u.r(2)).toBe(0xc1);
    expect(u.serial.pendingInput).toBe(0);
  });

  it('loops transmitted bytes back to RBR and MCR to MSR in loopback mode', () => {
    const u = uart();
    expect(u.r(6)).toBe(0xb0);
    u.w(4, 0x10 | 0x0a); // loopback, RTS, OUT2
    expect(u.r(6)).toBe(0x10 | 0x80);
    u.w(0, 0x5a);
    expect(u.out).toEqual([]);
    expect(u.r(0)).toBe(0x5a);
    expect(u.r(4)).toBe(0x1a);
  });

  it('keeps SCR, ignores writes to LSR and MSR, and reports an overrun once', () => {
    const u = uart();
    u.w(7, 0xa5);
    expect(u.r(7)).toBe(0xa5);
    u.w(5, 0);
    u.w(6, 0);
    expect(u.r(6)).toBe(0xb0);
    u.serial.receive(new Uint8Array(RX_CAPACITY + 1));
    expect(u.r(5) & 0x02).toBe(0x02);
    expect(u.r(5) & 0x02).toBe(0);
  });

  it('answers the Device interface with one-byte accesses', () => {
    const u = uart();
    const data = new Uint8Array(1);
    u.serial.write(0, Uint8Array.of(0x42));
    u.serial.read(5, data);
    expect(u.out).toEqual([0x42]);
    expect(data[0]).toBe(0x60);
  });

  it('is one device for every view of a shared state: registers, FIFO and interrupt level', () => {
    const state = serialState();
    const out: string[] = [];
    const irqs: string[] = [];
    const cpu0 = new Serial({ output: (b) => out.push(`0:${String.fromCharCode(b)}`), irq: (l) => irqs.push(`0:${l}`) }, state);
    const cpu1 = new Serial({ output: (b) => out.push(`1:${String.fromCharCode(b)}`), irq: (l) => irqs.push(`1:${l}`) }, state);
    cpu0.writeRegister(7, 0x5a);
    expect(cpu1.readRegister(7)).toBe(0x5a);
    cpu0.writeRegister(1, 0x01); // RX data interrupt on
    cpu0.receive(Uint8Array.of(0x41, 0x42));
    expect(irqs).toEqual(['0:true']);
    expect(cpu1.readRegister(0)).toBe(0x41);
    expect(cpu0.readRegister(0)).toBe(0x42);
    // The line drops once, from the view that emptied the FIFO.
    expect(irqs).toEqual(['0:true', '0:false']);
    cpu1.writeRegister(0, 0x68);
    cpu0.writeRegister(0, 0x69);
    expect(out).toEqual(['1:h', '0:i']);
    expect(() => new Serial({ output: () => {} }, new SharedArrayBuffer(8))).toThrow(/serial state of 8 bytes/);
  });
});
