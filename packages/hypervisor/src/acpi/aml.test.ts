// The AML encoder against the spec's encodings, and the DSDT decoded back by a small AML reader
// written from ACPI 6.5 §20 (iasl is not installed here): what the guest's interpreter would see.
import { describe, expect, it } from 'vitest';
import { IsolaError } from '@isola/errors';
import { device, extendedInterrupt, integer, memory32Fixed, name, nameString, pkgLength, resourceTemplate, scope, string } from './aml.js';
import { virtioMmioAml } from './dsdt.js';

type Node =
  | { op: 'Scope' | 'Device'; name: string; children: Node[] }
  | { op: 'Name'; name: string; value: Value };
type Value = { integer: bigint } | { string: string } | { buffer: number[] };

/** Reads the subset of AML isola writes, failing on anything else. */
function decode(bytes: Uint8Array): Node[] {
  let at = 0;
  const u8 = () => {
    if (at >= bytes.length) throw new Error(`AML ends early at ${at}`);
    return bytes[at++]!;
  };
  const pkg = () => {
    const start = at;
    const lead = u8();
    const extra = lead >> 6;
    let length = extra === 0 ? lead & 0x3f : lead & 0xf;
    for (let i = 0; i < extra; i++) length |= u8() << (4 + 8 * i);
    return start + length;
  };
  const seg = () => String.fromCharCode(u8(), u8(), u8(), u8());
  const nameStr = () => {
    let prefix = '';
    while (bytes[at] === 0x5c || bytes[at] === 0x5e) prefix += String.fromCharCode(u8());
    const b = bytes[at];
    if (b === 0x00) return (at++, prefix);
    if (b === 0x2e) return (at++, prefix + [seg(), seg()].join('.'));
    if (b === 0x2f) {
      at++;
      const n = u8();
      return prefix + Array.from({ length: n }, seg).join('.');
    }
    return prefix + seg();
  };
  const le = (n: number) => {
    let v = 0n;
    for (let i = 0; i < n; i++) v |= BigInt(u8()) << BigInt(8 * i);
    return v;
  };
  const value = (): Value => {
    const op = u8();
    switch (op) {
      case 0x00: return { integer: 0n };
      case 0x01: return { integer: 1n };
      case 0xff: return { integer: 0xffff_ffff_ffff_ffffn };
      case 0x0a: return { integer: le(1) };
      case 0x0b: return { integer: le(2) };
      case 0x0c: return { integer: le(4) };
      case 0x0e: return { integer: le(8) };
      case 0x0d: {
        let s = '';
        for (let c = u8(); c !== 0; c = u8()) s += String.fromCharCode(c);
        return { string: s };
      }
      case 0x11: {
        const end = pkg();
        const size = value();
        if (!('integer' in size)) throw new Error('BufferSize is not an integer');
        const data = [...bytes.subarray(at, end)];
        if (BigInt(data.length) !== size.integer) throw new Error(`buffer of ${data.length} bytes, BufferSize ${size.integer}`);
        at = end;
        return { buffer: data };
      }
      default:
        throw new Error(`unexpected opcode 0x${op.toString(16)} at ${at - 1}`);
    }
  };
  const terms = (end: number): Node[] => {
    const out: Node[] = [];
    while (at < end) {
      const op = u8();
      if (op === 0x10 || (op === 0x5b && bytes[at] === 0x82)) {
        if (op === 0x5b) at++;
        const stop = pkg();
        const n = nameStr();
        out.push({ op: op === 0x10 ? 'Scope' : 'Device', name: n, children: terms(stop) });
        if (at !== stop) throw new Error(`package ends at ${at}, PkgLength says ${stop}`);
      } else if (op === 0x08) {
        out.push({ op: 'Name', name: nameStr(), value: value() });
      } else {
        throw new Error(`unexpected opcode 0x${op.toString(16)} at ${at - 1}`);
      }
    }
    return out;
  };
  return terms(bytes.length);
}

/** The descriptors of a resource template buffer: [tag, data bytes][], checking the End Tag. */
function resources(data: number[]): { tag: number; data: number[] }[] {
  const out: { tag: number; data: number[] }[] = [];
  let at = 0;
  for (;;) {
    const tag = data[at]!;
    if (tag === 0x79) {
      expect(at + 2).toBe(data.length);
      return out;
    }
    expect(tag & 0x80).toBe(0x80); // a large item
    const length = data[at + 1]! | (data[at + 2]! << 8);
    out.push({ tag, data: data.slice(at + 3, at + 3 + length) });
    at += 3 + length;
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('AML encodings (ACPI 6.5 §20)', () => {
  it('encodes PkgLength in one to four bytes, counting itself', () => {
    expect(hex(pkgLength(0))).toBe('01');
    expect(hex(pkgLength(62))).toBe('3f');
    // 63 bytes of content + 2 of PkgLength = 65 = 0x41: lead 0x41 (one more byte, low nibble 1), then 0x04.
    expect(hex(pkgLength(63))).toBe('4104');
    expect(hex(pkgLength(0xffd))).toBe('4fff'); // 0xfff: the largest two-byte length
    expect(hex(pkgLength(0xffe))).toBe('810001'); // 0x1001 in three bytes
    expect(hex(pkgLength(0x10_0000))).toBe('c4000001'); // 0x100004 in four
  });

  it('encodes integers in their shortest form', () => {
    expect(hex(integer(0))).toBe('00');
    expect(hex(integer(1))).toBe('01');
    expect(hex(integer(0x2a))).toBe('0a2a');
    expect(hex(integer(0x1234))).toBe('0b3412');
    expect(hex(integer(0xd000_0000))).toBe('0c000000d0');
    expect(hex(integer(0x1_0000_0000n))).toBe('0e0000000001000000');
  });

  it('encodes names, strings and the resource descriptors', () => {
    expect(hex(nameString('_HID'))).toBe(Buffer.from('_HID').toString('hex'));
    expect(hex(nameString('\\_SB_'))).toBe('5c' + Buffer.from('_SB_').toString('hex'));
    expect(hex(nameString('\\_SB.VR00'))).toBe('5c2e' + Buffer.from('_SB_VR00').toString('hex'));
    expect(hex(nameString('A.B.C'))).toBe('2f03' + Buffer.from('A___B___C___').toString('hex'));
    expect(hex(string('LNRO0005'))).toBe('0d' + Buffer.from('LNRO0005').toString('hex') + '00');
    expect(hex(memory32Fixed(0xd000_0000, 0x1000))).toBe('86' + '0900' + '01' + '000000d0' + '00100000');
    expect(hex(extendedInterrupt([5], { edge: true }))).toBe('89' + '0600' + '03' + '01' + '05000000');
    expect(hex(extendedInterrupt([10, 11], { edge: false, activeLow: true, shared: true }))).toBe('89' + '0a00' + '0d' + '02' + '0a000000' + '0b000000');
  });

  it.each([
    ['a lowercase name', () => nameString('vr00')],
    ['a five-character segment', () => nameString('\\_SB_.VIRTIO')],
    ['a name starting with a digit', () => device('0ABC')],
    ['a negative integer', () => integer(-1)],
    ['an integer past 64 bits', () => integer(1n << 64n)],
    ['a non-ASCII string', () => string('Ωmega')],
    ['a base past 32 bits', () => memory32Fixed(0x1_0000_0000, 0x1000)],
    ['no interrupts', () => extendedInterrupt([], { edge: true })],
  ])('refuses %s with EACPI_AML', (_, encode) => {
    expect(encode).toThrow(IsolaError);
    expect(encode).toThrow(expect.objectContaining({ code: 'EACPI_AML' }));
  });
});

describe('the virtio-mmio devices in the DSDT', () => {
  const devices = [
    { base: 0xd000_0000, size: 0x1000, irq: 5 },
    { base: 0xd000_1000, size: 0x200, irq: 6 },
  ];

  it('decodes to Scope(\\_SB_) { Device(VRnn) { _HID "LNRO0005", _UID n, _CRS { Memory32Fixed, Interrupt } } }', () => {
    const tree = decode(virtioMmioAml(devices));
    expect(tree).toHaveLength(1);
    const sb = tree[0]!;
    expect(sb).toMatchObject({ op: 'Scope', name: '\\_SB_' });
    const children = (sb as { children: Node[] }).children;
    expect(children.map((c) => [c.op, c.name])).toEqual([['Device', 'VR00'], ['Device', 'VR01']]);
    children.forEach((dev, i) => {
      const names = Object.fromEntries((dev as { children: Node[] }).children.map((n) => [n.name, (n as { value: Value }).value]));
      expect(Object.keys(names)).toEqual(['_HID', '_UID', '_CRS']);
      expect(names._HID).toEqual({ string: 'LNRO0005' });
      expect(names._UID).toEqual({ integer: BigInt(i) });
      const crs = resources((names._CRS as { buffer: number[] }).buffer);
      expect(crs.map((r) => r.tag)).toEqual([0x86, 0x89]);
      const mem = Buffer.from(crs[0]!.data);
      expect([mem[0], mem.readUInt32LE(1), mem.readUInt32LE(5)]).toEqual([1, devices[i]!.base, devices[i]!.size]);
      const irq = Buffer.from(crs[1]!.data);
      // consumer, edge, active-high, exclusive; one interrupt
      expect([irq[0], irq[1], irq.readUInt32LE(2)]).toEqual([0x03, 1, devices[i]!.irq]);
    });
  });

  it('keeps PkgLengths right when a scope grows past one- and two-byte lengths', () => {
    const many = Array.from({ length: 200 }, (_, i) => ({ base: 0xd000_0000 + i * 0x1000, size: 0x1000, irq: 5 + (i % 19) }));
    const tree = decode(virtioMmioAml(many));
    expect((tree[0] as { children: Node[] }).children.map((c) => c.name).slice(-2)).toEqual(['VRC6', 'VRC7']);
  });

  it('describes nothing when there are no devices, and nests scopes and devices as asked', () => {
    expect(decode(virtioMmioAml([]))).toEqual([{ op: 'Scope', name: '\\_SB_', children: [] }]);
    const custom = scope('\\_SB_', device('COM1', name('_HID', string('PNP0501')), name('_CRS', resourceTemplate())));
    expect(decode(custom)).toEqual([
      { op: 'Scope', name: '\\_SB_', children: [{ op: 'Device', name: 'COM1', children: [{ op: 'Name', name: '_HID', value: { string: 'PNP0501' } }, { op: 'Name', name: '_CRS', value: { buffer: [0x79, 0] } }] }] },
    ]);
  });
});
