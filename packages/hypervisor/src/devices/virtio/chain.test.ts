import { describe, expect, it } from 'vitest';
import { carve, gather, parseChain } from './chain.js';
import { SplitQueue } from './queue.js';
import { ArrayRam } from './ram.js';
import { DESC_F_INDIRECT, DESC_F_NEXT, DESC_F_WRITE } from './spec.js';
import { MockDriver, TEST_LAYOUT } from './testing.js';

const { desc, size } = TEST_LAYOUT;
const direct = { indirect: false };

function parse(driver: MockDriver, head: number, options = direct) {
  return parseChain(driver.ram, desc, size, head, options);
}

describe('parseChain', () => {
  it('walks readable then writable buffers in order', () => {
    const d = new MockDriver();
    const head = d.chain([
      { address: 0x10000, length: 16 },
      { address: 0x20000, length: 512, write: true },
      { address: 0x30000, length: 1, write: true },
    ]);
    expect(parse(d, head)).toEqual({
      ok: true,
      chain: { head, readable: [{ address: 0x10000, length: 16 }], writable: [{ address: 0x20000, length: 512 }, { address: 0x30000, length: 1 }] },
    });
  });

  it('follows an indirect table when INDIRECT_DESC was negotiated, and refuses it otherwise', () => {
    const d = new MockDriver();
    const head = d.indirectChain([
      { address: 0x40000, length: 16 },
      { address: 0x41000, length: 8, write: true },
    ]);
    expect(parse(d, head, { indirect: true })).toMatchObject({ ok: true, chain: { readable: [{ address: 0x40000, length: 16 }], writable: [{ address: 0x41000, length: 8 }] } });
    expect(parse(d, head)).toEqual({ ok: false, reason: expect.stringContaining('VIRTIO_F_RING_INDIRECT_DESC was not negotiated') });
  });

  const malformed: [string, (d: MockDriver) => number, RegExp][] = [
    ['a loop of two descriptors', (d) => {
      d.setDescriptor(0, { address: 0x10000, length: 4, flags: DESC_F_NEXT, next: 1 });
      d.setDescriptor(1, { address: 0x10000, length: 4, flags: DESC_F_NEXT, next: 0 });
      return 0;
    }, /loops/],
    ['a descriptor linking to itself', (d) => {
      d.setDescriptor(3, { address: 0x10000, length: 4, flags: DESC_F_NEXT, next: 3 });
      return 3;
    }, /loops/],
    ['a next index past the table', (d) => {
      d.setDescriptor(0, { address: 0x10000, length: 4, flags: DESC_F_NEXT, next: 16 });
      return 0;
    }, /links to 16, past the 16-entry table/],
    ['a buffer outside RAM', (d) => {
      d.setDescriptor(0, { address: 0xfff00, length: 0x200, flags: 0, next: 0 });
      return 0;
    }, /not in guest RAM/],
    ['an address past 2^53', (d) => {
      d.setDescriptor(0, { address: 0, length: 1, flags: 0, next: 0 });
      d.ram.view(desc + 7, 1)![0] = 0xff;
      return 0;
    }, /past 2\^53/],
    ['a readable buffer after a writable one', (d) => d.chain([{ address: 0x10000, length: 1, write: true }, { address: 0x10010, length: 1 }]), /readable descriptor 1 follows a writable one/],
    ['nested indirect tables', (d) => {
      const inner = d.alloc(16);
      const outer = d.alloc(16);
      d.setDescriptor(0, { address: 0x10000, length: 16, flags: DESC_F_INDIRECT, next: 0 }, inner);
      d.setDescriptor(0, { address: inner, length: 16, flags: DESC_F_INDIRECT, next: 0 }, outer);
      d.setDescriptor(0, { address: outer, length: 16, flags: DESC_F_INDIRECT, next: 0 });
      return 0;
    }, /another indirect table/],
    ['an indirect table of a partial descriptor', (d) => {
      d.setDescriptor(0, { address: d.alloc(32), length: 24, flags: DESC_F_INDIRECT, next: 0 });
      return 0;
    }, /not a whole number of descriptors/],
    ['an indirect descriptor with NEXT', (d) => {
      d.setDescriptor(0, { address: d.alloc(16), length: 16, flags: DESC_F_INDIRECT | DESC_F_NEXT, next: 1 });
      return 0;
    }, /also has NEXT/],
    ['an indirect table that loops', (d) => {
      const table = d.alloc(32);
      d.setDescriptor(0, { address: 0x10000, length: 1, flags: DESC_F_NEXT, next: 1 }, table);
      d.setDescriptor(1, { address: 0x10000, length: 1, flags: DESC_F_NEXT | DESC_F_WRITE, next: 1 }, table);
      d.setDescriptor(0, { address: table, length: 32, flags: DESC_F_INDIRECT, next: 0 });
      return 0;
    }, /loops \(more than 2 descriptors\)/],
    ['a head past the table', () => 99, /head 99 is past/],
  ];

  for (const [name, build, reason] of malformed) {
    it(`rejects ${name}`, () => {
      const d = new MockDriver();
      const head = build(d);
      expect(parse(d, head, { indirect: true })).toEqual({ ok: false, reason: expect.stringMatching(reason) });
    });
  }

  it('never throws on random descriptor tables (the guest controls every byte)', () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let round = 0; round < 2000; round++) {
      const d = new MockDriver(new ArrayRam(0x20000));
      const table = d.ram.view(desc, size * 16)!;
      for (let i = 0; i < table.length; i++) table[i] = random() < 0.5 ? 0 : Math.floor(random() * 256);
      // Keep some addresses small enough to be RAM, so walks get past the first descriptor.
      for (let i = 0; i < size; i++) if (random() < 0.7) table.fill(0, i * 16 + 3, i * 16 + 8);
      const result = parse(d, Math.floor(random() * size), { indirect: random() < 0.5 });
      expect(typeof result.ok).toBe('boolean');
    }
  });
});

describe('gather and carve', () => {
  it('copy and slice bytes across segment boundaries', () => {
    const ram = new ArrayRam(0x100);
    ram.bytes.set([1, 2, 3], 0x10);
    ram.bytes.set([4, 5, 6], 0x20);
    const segments = [{ address: 0x10, length: 3 }, { address: 0x20, length: 3 }];
    expect([...gather(ram, segments, 4, 1)]).toEqual([2, 3, 4, 5]);
    expect([...gather(ram, segments, 10)]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(carve(segments, 2, 3)).toEqual([{ address: 0x12, length: 1 }, { address: 0x20, length: 2 }]);
  });
});

describe('SplitQueue', () => {
  it('refuses layouts that are misaligned, outside RAM or of a bad size', () => {
    const ram = new ArrayRam(0x10000);
    expect(SplitQueue.open(ram, { ...TEST_LAYOUT, size: 12 }, direct)).toEqual({ reason: expect.stringMatching(/not a power of 2/) });
    expect(SplitQueue.open(ram, { ...TEST_LAYOUT, desc: 0x1008 }, direct)).toEqual({ reason: expect.stringMatching(/misaligned/) });
    expect(SplitQueue.open(ram, { ...TEST_LAYOUT, used: 0xfffc }, direct)).toEqual({ reason: expect.stringMatching(/used ring .* not in guest RAM/) });
    expect(SplitQueue.open(ram, TEST_LAYOUT, direct)).toBeInstanceOf(SplitQueue);
  });

  it('pops what the driver offers and publishes used entries', () => {
    const d = new MockDriver();
    const queue = SplitQueue.open(d.ram, TEST_LAYOUT, direct) as SplitQueue;
    expect(queue.pop()).toBeUndefined();
    const a = d.chain([{ address: 0x10000, length: 4, write: true }]);
    const b = d.chain([{ address: 0x10010, length: 4, write: true }]);
    d.offer(a);
    d.offer(b);
    expect(queue.pop()).toMatchObject({ ok: true, chain: { head: a } });
    expect(queue.pop()).toMatchObject({ ok: true, chain: { head: b } });
    expect(queue.pop()).toBeUndefined();
    queue.push(b, 4);
    queue.push(a, 2);
    expect(d.takeUsed()).toEqual([{ id: b, length: 4 }, { id: a, length: 2 }]);
  });

  it('treats an available index that jumps more than the queue size as an error', () => {
    const d = new MockDriver();
    const queue = SplitQueue.open(d.ram, TEST_LAYOUT, direct) as SplitQueue;
    d.setAvailIdx(17);
    expect(queue.pop()).toEqual({ ok: false, reason: expect.stringMatching(/moved 17 entries ahead on a 16-entry queue/) });
  });

  it('wraps the 16-bit ring indices', () => {
    const d = new MockDriver();
    const queue = SplitQueue.open(d.ram, TEST_LAYOUT, direct) as SplitQueue;
    let completed = 0;
    for (let round = 0; round < 70000 / 8; round++) {
      for (let i = 0; i < 8; i++) d.offer(d.chain([{ address: 0x10000, length: 1, write: true }]));
      for (let popped = queue.pop(); popped; popped = queue.pop()) {
        if (!popped.ok) throw new Error(`round ${round}: ${popped.reason}`);
        queue.push(popped.chain.head, 1);
      }
      completed += d.takeUsed().length;
    }
    expect(completed).toBe(70000);
  });
});
