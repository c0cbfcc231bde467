// The emulator's address translation and the forms the KVM test cannot run here (1 GiB pages and
// CMPXCHG16B fail under this host's PVM): page tables built in a plain buffer, devices recorded.
import { describe, expect, it } from 'vitest';
import { emulate, GPR_NAMES, type EmulatorCpu, type EmulatorRegisters } from './emulator.js';

const P = 1n, W = 2n, U = 4n, PS = 0x80n, A = 0x20n, D = 0x40n;
const MMIO = 0x1000_0000n;

function guest() {
  const memory = new Uint8Array(1 << 20);
  const view = new DataView(memory.buffer);
  const entry = (table: number, index: number, value: bigint) => view.setBigUint64(table + 8 * index, value, true);
  entry(0x1000, 0, 0x2000n | P | W | U); // PML4[0] → PDPT
  entry(0x2000, 0, 0x3000n | P | W | U); // PDPT[0] → PD (first GiB)
  entry(0x2000, 1, 0x4000_0000n | P | W | PS); // PDPT[1]: linear 1 GiB → physical 1 GiB (MMIO), a 1 GiB page, supervisor only
  entry(0x3000, 0, 0x4000n | P | W | U); // PD[0] → PT
  entry(0x3000, 1, MMIO | P | PS | U); // PD[1]: linear 2 MiB → MMIO, a read-only 2 MiB page
  entry(0x4000, 5, 0x5000n | P | W | U); // linear 0x5000 → 0x5000
  entry(0x4000, 6, (MMIO + 0x3000n) | P | W | U); // linear 0x6000 → MMIO + 0x3000
  const accesses: string[] = [];
  const bus = {
    memory,
    readMmio: (address: bigint, size: number) => {
      accesses.push(`R${size} ${address.toString(16)}`);
      return 0x1122_3344_5566_7788n;
    },
    writeMmio: (address: bigint, size: number, value: bigint) => void accesses.push(`W${size} ${address.toString(16)}=${value.toString(16)}`),
  };
  return { memory, view, bus, accesses };
}

function cpu(regs: Partial<EmulatorRegisters>, extra: Partial<EmulatorCpu> = {}): EmulatorCpu {
  const all = Object.fromEntries([...GPR_NAMES, 'rip', 'rflags'].map((n) => [n, 0n])) as EmulatorRegisters;
  return { regs: { ...all, rflags: 2n, rip: 0x400000n, ...regs }, cr0: 0x8000_0011n, cr3: 0x1000n, efer: 0x500n, ...extra };
}

const bytes = (...b: number[]) => Uint8Array.from(b);

describe('x86 emulator', () => {
  it('translates through 4 KiB, 2 MiB and 1 GiB pages and sets accessed and dirty bits', () => {
    const g = guest();
    // mov [rbx], eax through each page size.
    for (const [rbx, physical] of [[0x6010n, MMIO + 0x3010n], [0x4000_0010n, 0x4000_0010n]] as const) {
      const r = emulate(bytes(0x89, 0x03), cpu({ rbx, rax: 0xdeadbeefn }), g.bus);
      expect(r.kind).toBe('ok');
      expect(g.accesses.pop()).toBe(`W4 ${physical.toString(16)}=deadbeef`);
    }
    const read = emulate(bytes(0x8b, 0x03), cpu({ rbx: 0x20_0008n }), g.bus); // mov eax, [rbx] via the 2 MiB page
    expect(read.kind === 'ok' && read.regs.rax).toBe(0x5566_7788n);
    expect(g.accesses.pop()).toBe(`R4 ${(MMIO + 8n).toString(16)}`);
    expect(g.view.getBigUint64(0x4000 + 6 * 8, true) & (A | D)).toBe(A | D); // the 4 KiB PTE written through
    expect(g.view.getBigUint64(0x1000, true) & A).toBe(A);
  });

  it('reports page faults with CR2 and the error code, and writes nothing', () => {
    const g = guest();
    const notPresent = emulate(bytes(0x89, 0x03), cpu({ rbx: 0x7000n }), g.bus);
    expect(notPresent).toMatchObject({ kind: 'page-fault', address: 0x7000n, errorCode: 2 });
    const readOnly = emulate(bytes(0x89, 0x03), cpu({ rbx: 0x20_0000n }), g.bus);
    expect(readOnly).toMatchObject({ kind: 'ok' }); // CR0.WP clear: the kernel may write read-only pages
    const wp = emulate(bytes(0x89, 0x03), cpu({ rbx: 0x20_0000n }, { cr0: 0x8001_0011n }), g.bus);
    expect(wp).toMatchObject({ kind: 'page-fault', errorCode: 3 });
    const user = emulate(bytes(0x8b, 0x03), cpu({ rbx: 0x4000_0000n }, { cpl: 3 }), g.bus);
    expect(user).toMatchObject({ kind: 'page-fault', errorCode: 5 });
    expect(emulate(bytes(0x8b, 0x03), cpu({ rbx: 0x8000_0000_0000n }), g.bus).kind).toBe('general-protection');
    expect(g.accesses).toEqual(['W4 10000000=0']);
  });

  it('splits a page-crossing access and checks both pages before touching either', () => {
    const g = guest();
    // linear 0x5ffe..0x6001: the last 2 bytes of RAM page 0x5000, the first 2 of the MMIO page.
    g.memory.set([0xaa, 0xbb], 0x5ffe);
    const r = emulate(bytes(0x8b, 0x03), cpu({ rbx: 0x5ffen }), g.bus);
    expect(r.kind === 'ok' && r.regs.rax).toBe(0x7788_bbaan);
    expect(g.accesses).toEqual([`R2 ${(MMIO + 0x3000n).toString(16)}`]);
    const fault = emulate(bytes(0x89, 0x03), cpu({ rbx: 0x6ffen }), g.bus); // second page not present
    expect(fault).toMatchObject({ kind: 'page-fault', address: 0x7000n });
    expect(g.accesses.length).toBe(1);
  });

  it('runs CMPXCHG16B as two 8-byte accesses, and REP string instructions in resumable steps', () => {
    const g = guest();
    const r = emulate(bytes(0x48, 0x0f, 0xc7, 0x0b), cpu({ rbx: 0x6000n, rax: 1n, rdx: 2n, rflags: 0x42n }), g.bus);
    expect(r.kind === 'ok' && [r.regs.rax, r.regs.rdx, r.regs.rflags & 0x40n]).toEqual([0x1122_3344_5566_7788n, 0x1122_3344_5566_7788n, 0n]);
    expect(g.accesses).toEqual(['R8 10003000', 'R8 10003008', 'W8 10003000=1122334455667788', 'W8 10003008=1122334455667788']);
    expect(emulate(bytes(0x48, 0x0f, 0xc7, 0x0b), cpu({ rbx: 0x6008n }), g.bus)).toMatchObject({ kind: 'exception', vector: 13, errorCode: 0 });
    expect(g.accesses.length).toBe(4);
    g.accesses.length = 0;
    // rep stosb of 100 bytes to MMIO: 64 per call, RIP held until RCX reaches 0.
    let regs = cpu({ rdi: 0x6000n, rcx: 100n, rax: 0x5an }).regs;
    const first = emulate(bytes(0xf3, 0xaa), cpu(regs), g.bus);
    expect(first.kind === 'ok' && [first.regs.rcx, first.regs.rip]).toEqual([36n, 0x400000n]);
    regs = first.kind === 'ok' ? first.regs : regs;
    const second = emulate(bytes(0xf3, 0xaa), cpu(regs), g.bus);
    expect(second.kind === 'ok' && [second.regs.rcx, second.regs.rdi, second.regs.rip]).toEqual([0n, 0x6064n, 0x400002n]);
    expect(g.accesses.length).toBe(100);
  });

  it('raises what the CPU raises for SSE: #UD without OSFXSR, #NM with CR0.TS, #GP(0) for a misaligned movdqa', () => {
    const g = guest();
    const sse = { cr0: 0x33n, cr4: 0x600n, efer: 0x500n, xmm: new Uint8Array(256) };
    const pxor = bytes(0x66, 0x0f, 0xef, 0xc1);
    expect(emulate(pxor, cpu({}, { ...sse, cr4: 0n }), g.bus)).toMatchObject({ kind: 'exception', vector: 6, errorCode: null });
    expect(emulate(pxor, cpu({}, { ...sse, cr0: 0x3bn }), g.bus)).toMatchObject({ kind: 'exception', vector: 7, errorCode: null });
    expect(emulate(bytes(0x66, 0x0f, 0x6f, 0x03), cpu({ rbx: 0x5008n }, sse), g.bus)).toMatchObject({ kind: 'exception', vector: 13, errorCode: 0 });
    expect(emulate(bytes(0xf3, 0x0f, 0x6f, 0x03), cpu({ rbx: 0x5008n }, sse), g.bus).kind).toBe('ok'); // movdqu: unaligned is fine
    expect(g.accesses).toEqual([]);
    // MMX and VEX forms need state the emulator does not hold.
    expect(emulate(bytes(0x0f, 0xef, 0xc1), cpu({}, sse), g.bus)).toMatchObject({ kind: 'unsupported', instruction: { mnemonic: 'pxor' } });
    expect(emulate(bytes(0xc5, 0xf1, 0xef, 0xc2), cpu({}, sse), g.bus)).toMatchObject({ kind: 'unsupported', instruction: { mnemonic: 'vpxor' } });
  });

  it('delivers INT n from user mode on the TSS stack, and raises #GP or #NP for a gate it may not use', () => {
    // Paging off (the walk is the identity) so the tables can sit anywhere in the buffer.
    const g = guest();
    const IDT = 0x10000, GDT = 0x11000, TSS = 0x12000, RSP0 = 0x20000n;
    const gate = (vector: number, dpl: number, present = true) => {
      const target = 0x401000;
      g.view.setBigUint64(IDT + 16 * vector, BigInt(target & 0xffff) | (8n << 16n) | (BigInt((present ? 0x80 : 0) | (dpl << 5) | 0xe) << 40n) | (BigInt(target >>> 16) << 48n), true);
    };
    g.view.setBigUint64(GDT + 8, 0x0020_9a00_0000_0000n, true); // 0x08: 64-bit code, DPL 0
    g.view.setBigUint64(TSS + 4, RSP0, true);
    gate(0x21, 0);
    gate(0x80, 3);
    gate(0x81, 3, false);
    const system = { idt: { base: BigInt(IDT), limit: 0x82 * 16 - 1 }, gdt: { base: BigInt(GDT), limit: 0x17 }, trBase: BigInt(TSS), cs: 0x33, ss: 0x2b };
    const user = (code: number[]) => emulate(bytes(...code), cpu({ rsp: 0x7ff0n, rflags: 0x246n }, { cr0: 0x11n, cpl: 3, system }), g.bus);
    expect(user([0xcd, 0x21])).toMatchObject({ kind: 'exception', vector: 13, errorCode: (0x21 << 3) | 2 });
    expect(user([0xcd, 0x81])).toMatchObject({ kind: 'exception', vector: 11, errorCode: (0x81 << 3) | 2 });
    expect(user([0xcd, 0x90])).toMatchObject({ kind: 'exception', vector: 13, errorCode: (0x90 << 3) | 2 }); // past the IDT limit
    const r = user([0xcd, 0x80]);
    expect(r.kind === 'ok' && [r.regs.rip, r.regs.rsp, r.regs.rflags, r.interrupt]).toEqual([0x401000n, RSP0 - 40n, 0x46n, { vector: 0x80, cs: 8, ss: 0, cpl: 0 }]);
    const frame = [0, 1, 2, 3, 4].map((i) => g.view.getBigUint64(Number(RSP0) - 40 + 8 * i, true));
    expect(frame).toEqual([0x400002n, 0x33n, 0x246n, 0x7ff0n, 0x2bn]); // RIP, CS, RFLAGS, RSP, SS
    // Without the descriptor tables the emulator does not guess.
    expect(emulate(bytes(0xcc), cpu({}), g.bus).kind).toBe('unsupported');
  });

  it('names the XSAVE family it leaves to the hypervisor', () => {
    const g = guest();
    for (const [mnemonic, code] of [['xrstor', [0x0f, 0xae, 0x2b]], ['xsave', [0x0f, 0xae, 0x23]], ['xsaveopt', [0x0f, 0xae, 0x33]], ['xrstors64', [0x48, 0x0f, 0xc7, 0x1b]], ['xsavec', [0x0f, 0xc7, 0x23]], ['xgetbv', [0x0f, 0x01, 0xd0]]] as const) {
      const r = emulate(bytes(...code), cpu({ rbx: 0x5000n }), g.bus);
      expect(r).toMatchObject({ kind: 'unsupported', instruction: { mnemonic } });
    }
    expect(g.accesses).toEqual([]);
  });

  it('says which instructions it does not execute', () => {
    const g = guest();
    expect(emulate(bytes(0x0f, 0xa2), cpu({}), g.bus)).toMatchObject({ kind: 'unsupported', instruction: { mnemonic: 'cpuid' } });
    expect(emulate(bytes(0x06), cpu({}), g.bus).kind).toBe('invalid');
  });
});
