// The emulator against this machine's own CPU, for the unprivileged instructions KVM cannot run under
// PVM (see ../shared/MACHINE.md: pxor and the like, cmpxchg16b even without LOCK): host-reference.c
// runs each case natively on the registers and a 64-byte buffer that rbx (or rsi) points at; the emulator,
// given the same bytes, registers and memory, must leave the same registers, flags, xmm file and
// memory. Values come from a seeded generator, so a failure names a case that reproduces.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { emulate, GPR_NAMES, type EmulatorRegisters } from './emulator.js';

const BUFFER = 0x1000n; // the guest address of the 64-byte buffer (paging off)
const STATE = 17 * 8 + 256;
const ARITH_FLAGS = 0x8d5n;

interface Case {
  name: string;
  bytes: number[];
  gpr: bigint[];
  rflags: bigint;
  xmm: Uint8Array;
  memory: Uint8Array;
  /** The register that holds the buffer's address (3: rbx). */
  base: number;
}

function random(seed: number) {
  let s = BigInt(seed) | 1n;
  return () => {
    s ^= (s << 13n) & 0xffff_ffff_ffff_ffffn;
    s ^= s >> 7n;
    s ^= (s << 17n) & 0xffff_ffff_ffff_ffffn;
    return s;
  };
}

function cases(): Case[] {
  const next = random(16);
  const bytesOf = (n: number) => Uint8Array.from({ length: n }, () => Number(next() & 0xffn));
  const out: Case[] = [];
  const add = (name: string, bytes: number[], tweak?: (c: Case) => void) => {
    const c: Case = { name, bytes, gpr: GPR_NAMES.map(() => next()), rflags: 0x202n | (next() & ARITH_FLAGS), xmm: bytesOf(256), memory: bytesOf(64), base: 3 };
    tweak?.(c);
    c.gpr[c.base] = BUFFER;
    out.push(c);
  };
  // Bitwise logic, register and memory forms, low and high registers.
  const logic: [string, number[]][] = [
    ['pxor', [0x66, 0x0f, 0xef]], ['por', [0x66, 0x0f, 0xeb]], ['pand', [0x66, 0x0f, 0xdb]], ['pandn', [0x66, 0x0f, 0xdf]],
    ['xorps', [0x0f, 0x57]], ['xorpd', [0x66, 0x0f, 0x57]], ['orps', [0x0f, 0x56]], ['orpd', [0x66, 0x0f, 0x56]],
    ['andps', [0x0f, 0x54]], ['andpd', [0x66, 0x0f, 0x54]], ['andnps', [0x0f, 0x55]], ['andnpd', [0x66, 0x0f, 0x55]],
  ];
  for (const [name, op] of logic) {
    add(`${name} xmm0, xmm1`, [...op, 0xc1]);
    add(`${name} xmm3, xmm3`, [...op, 0xdb]);
    const [first, rest] = op[0] === 0x66 ? [[0x66], op.slice(1)] : [[], op];
    add(`${name} xmm10, xmm15`, [...first, 0x45, ...rest, 0xd7]);
    add(`${name} xmm2, [rbx]`, [...op, 0x13]);
    add(`${name} xmm9, [rbx+0x20]`, [...first, 0x44, ...rest, 0x4b, 0x20]);
  }
  // 128-bit moves: loads, stores, register copies; the unaligned ones at odd addresses.
  for (const [name, load, store, aligned] of [
    ['movdqa', [0x66, 0x0f, 0x6f], [0x66, 0x0f, 0x7f], true], ['movdqu', [0xf3, 0x0f, 0x6f], [0xf3, 0x0f, 0x7f], false],
    ['movaps', [0x0f, 0x28], [0x0f, 0x29], true], ['movups', [0x0f, 0x10], [0x0f, 0x11], false],
    ['movapd', [0x66, 0x0f, 0x28], [0x66, 0x0f, 0x29], true], ['movupd', [0x66, 0x0f, 0x10], [0x66, 0x0f, 0x11], false],
  ] as const) {
    const disp = aligned ? 0x10 : 0x13;
    add(`${name} xmm5, [rbx+${disp}]`, [...load, 0x6b, disp]);
    add(`${name} [rbx+${disp}], xmm6`, [...store, 0x73, disp]);
    add(`${name} xmm1, xmm7`, [...load, 0xcf]);
  }
  add('movntdq [rbx+0x20], xmm4', [0x66, 0x0f, 0xe7, 0x63, 0x20]);
  add('movntps [rbx], xmm2', [0x0f, 0x2b, 0x13]);
  add('movntpd [rbx+0x10], xmm3', [0x66, 0x0f, 0x2b, 0x5b, 0x10]);
  // MOVD and MOVQ in every direction.
  add('movd xmm0, eax', [0x66, 0x0f, 0x6e, 0xc0]);
  add('movq xmm0, rax', [0x66, 0x48, 0x0f, 0x6e, 0xc0]);
  add('movq xmm12, r9', [0x66, 0x4d, 0x0f, 0x6e, 0xe1]);
  add('movd xmm1, [rbx+4]', [0x66, 0x0f, 0x6e, 0x4b, 0x04]);
  add('movq xmm1, [rbx+8] (66 REX.W 0F 6E)', [0x66, 0x48, 0x0f, 0x6e, 0x4b, 0x08]);
  add('movd ecx, xmm2', [0x66, 0x0f, 0x7e, 0xd1]);
  add('movq rcx, xmm2', [0x66, 0x48, 0x0f, 0x7e, 0xd1]);
  add('movd [rbx+12], xmm3', [0x66, 0x0f, 0x7e, 0x5b, 0x0c]);
  add('movq [rbx+16], xmm3 (66 REX.W 0F 7E)', [0x66, 0x48, 0x0f, 0x7e, 0x5b, 0x10]);
  add('movq xmm0, xmm1 (F3 0F 7E)', [0xf3, 0x0f, 0x7e, 0xc1]);
  add('movq xmm6, [rbx+24]', [0xf3, 0x0f, 0x7e, 0x73, 0x18]);
  add('movq xmm0, xmm1 (66 0F D6)', [0x66, 0x0f, 0xd6, 0xc8]);
  add('movq [rbx+40], xmm8', [0x66, 0x44, 0x0f, 0xd6, 0x43, 0x28]);
  // CMPXCHG16B: equal (memory set from RDX:RAX) and not, with and without LOCK.
  // Addressed through rsi: a successful exchange stores RCX:RBX, whose values must not be the buffer's.
  const viaRsi = (c: Case) => void (c.base = 6);
  const equal = (at: number) => (c: Case) => {
    viaRsi(c);
    const view = new DataView(c.memory.buffer);
    view.setBigUint64(at, c.gpr[0]!, true);
    view.setBigUint64(at + 8, c.gpr[2]!, true);
  };
  add('cmpxchg16b [rsi] (differs)', [0x48, 0x0f, 0xc7, 0x0e], viaRsi);
  add('cmpxchg16b [rsi] (equal)', [0x48, 0x0f, 0xc7, 0x0e], equal(0));
  add('lock cmpxchg16b [rsi+0x10] (equal)', [0xf0, 0x48, 0x0f, 0xc7, 0x4e, 0x10], equal(0x10));
  add('lock cmpxchg16b [rsi+0x20] (differs)', [0xf0, 0x48, 0x0f, 0xc7, 0x4e, 0x20], viaRsi);
  return out;
}

function encode(c: Case): Uint8Array {
  const bytes = new Uint8Array(16 + STATE + 64 + 8).fill(0x90, 0, 16);
  bytes.set(c.bytes);
  const view = new DataView(bytes.buffer);
  c.gpr.forEach((v, i) => view.setBigUint64(16 + 8 * i, v, true));
  view.setBigUint64(16 + 128, c.rflags, true);
  bytes.set(c.xmm, 16 + 136);
  bytes.set(c.memory, 16 + STATE);
  view.setBigUint64(16 + STATE + 64, BigInt(c.base), true);
  return bytes;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('x86 emulator against the host CPU', () => {
  itNeeds({ tools: ['gcc'] })('executes SSE logic and moves, MOVD/MOVQ and CMPXCHG16B as this CPU does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isola-x86-host-'));
    try {
      const binary = join(dir, 'reference');
      const source = fileURLToPath(new URL('./host-reference.c', import.meta.url));
      const cc = spawnSync('gcc', ['-O1', '-o', binary, source], { encoding: 'utf8' });
      expect(cc.stderr).toBe('');
      const list = cases();
      const run = spawnSync(binary, { input: Buffer.concat(list.map(encode)) });
      expect(run.status).toBe(0);
      const output = run.stdout;
      expect(output.length).toBe(list.length * (STATE + 64));
      const failures: string[] = [];
      list.forEach((c, k) => {
        const at = k * (STATE + 64);
        const real = new DataView(output.buffer, output.byteOffset + at, STATE + 64);
        const memory = new Uint8Array(0x2000);
        memory.set(c.memory, Number(BUFFER));
        const regs = Object.fromEntries(GPR_NAMES.map((n, i) => [n, c.gpr[i]!])) as EmulatorRegisters;
        regs.rip = 0x400000n;
        regs.rflags = c.rflags;
        const result = emulate(Uint8Array.from(c.bytes), { regs, cr0: 0x33n, cr3: 0n, cr4: 0x600n, efer: 0x500n, xmm: c.xmm }, { memory, readMmio: () => 0n, writeMmio: () => {} });
        if (result.kind !== 'ok') {
          failures.push(`${c.name}: emulator says ${result.kind}`);
          return;
        }
        GPR_NAMES.forEach((name, i) => {
          const want = real.getBigUint64(8 * i, true);
          if (name !== 'rsp' && result.regs[name] !== want) failures.push(`${c.name}: ${name} cpu ${want.toString(16)} ours ${result.regs[name].toString(16)}`);
        });
        const flags = real.getBigUint64(128, true) & ARITH_FLAGS;
        if ((result.regs.rflags & ARITH_FLAGS) !== flags) failures.push(`${c.name}: flags cpu ${flags.toString(16)} ours ${(result.regs.rflags & ARITH_FLAGS).toString(16)}`);
        if (result.regs.rip !== 0x400000n + BigInt(c.bytes.length)) failures.push(`${c.name}: rip ${result.regs.rip.toString(16)}`);
        const xmm = new Uint8Array(real.buffer, real.byteOffset + 136, 256);
        if (hex(result.xmm!) !== hex(xmm)) failures.push(`${c.name}: xmm\n  cpu  ${hex(xmm)}\n  ours ${hex(result.xmm!)}`);
        const after = new Uint8Array(real.buffer, real.byteOffset + STATE, 64);
        const ours = memory.subarray(Number(BUFFER), Number(BUFFER) + 64);
        if (hex(ours) !== hex(after)) failures.push(`${c.name}: memory\n  cpu  ${hex(after)}\n  ours ${hex(ours)}`);
      });
      expect(failures).toEqual([]);
      expect(list.length).toBeGreaterThan(90);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
