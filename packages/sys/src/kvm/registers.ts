// vCPU register state as typed objects, and their encoding to and from the kvm_regs, kvm_sregs and
// kvm_fpu layouts. Pure functions over buffers: no ioctls here.
import * as s from '../abi/structs.js';

export const REGISTER_NAMES = [
  'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
  'rip', 'rflags',
] as const;
export type RegisterName = (typeof REGISTER_NAMES)[number];
export type Regs = Record<RegisterName, bigint>;

export interface Segment {
  base: bigint;
  limit: number;
  selector: number;
  type: number;
  present: boolean;
  dpl: number;
  db: boolean;
  s: boolean;
  l: boolean;
  g: boolean;
  avl: boolean;
  unusable: boolean;
}

export interface DescriptorTable {
  base: bigint;
  limit: number;
}

export const SEGMENT_NAMES = ['cs', 'ds', 'es', 'fs', 'gs', 'ss', 'tr', 'ldt'] as const;
export type SegmentName = (typeof SEGMENT_NAMES)[number];

export type Sregs = Record<SegmentName, Segment> & {
  gdt: DescriptorTable;
  idt: DescriptorTable;
  cr0: bigint;
  cr2: bigint;
  cr3: bigint;
  cr4: bigint;
  cr8: bigint;
  efer: bigint;
  apicBase: bigint;
  /** Bitmap of the pending external interrupt, 256 bits as four 64-bit words. */
  interruptBitmap: [bigint, bigint, bigint, bigint];
};

export interface Fpu {
  /** The eight x87 registers, 16 bytes each. */
  fpr: Uint8Array;
  fcw: number;
  fsw: number;
  ftwx: number;
  lastOpcode: number;
  lastIp: bigint;
  lastDp: bigint;
  /** xmm0-xmm15, 16 bytes each. */
  xmm: Uint8Array;
  mxcsr: number;
}

export function decodeRegs(buf: Buffer): Regs {
  const regs = {} as Regs;
  for (const name of REGISTER_NAMES) regs[name] = buf.readBigUInt64LE(s.kvm_regs[name]);
  return regs;
}

export function encodeRegs(regs: Regs, buf = Buffer.alloc(s.kvm_regs.size)): Buffer {
  for (const name of REGISTER_NAMES) buf.writeBigUInt64LE(BigInt.asUintN(64, regs[name]), s.kvm_regs[name]);
  return buf;
}

function decodeSegment(buf: Buffer, at: number): Segment {
  const f = s.kvm_segment;
  return {
    base: buf.readBigUInt64LE(at + f.base),
    limit: buf.readUInt32LE(at + f.limit),
    selector: buf.readUInt16LE(at + f.selector),
    type: buf[at + f.type]!,
    present: buf[at + f.present] !== 0,
    dpl: buf[at + f.dpl]!,
    db: buf[at + f.db] !== 0,
    s: buf[at + f.s] !== 0,
    l: buf[at + f.l] !== 0,
    g: buf[at + f.g] !== 0,
    avl: buf[at + f.avl] !== 0,
    unusable: buf[at + f.unusable] !== 0,
  };
}

function encodeSegment(seg: Segment, buf: Buffer, at: number): void {
  const f = s.kvm_segment;
  buf.writeBigUInt64LE(BigInt.asUintN(64, seg.base), at + f.base);
  buf.writeUInt32LE(seg.limit >>> 0, at + f.limit);
  buf.writeUInt16LE(seg.selector, at + f.selector);
  buf[at + f.type] = seg.type;
  buf[at + f.present] = seg.present ? 1 : 0;
  buf[at + f.dpl] = seg.dpl;
  buf[at + f.db] = seg.db ? 1 : 0;
  buf[at + f.s] = seg.s ? 1 : 0;
  buf[at + f.l] = seg.l ? 1 : 0;
  buf[at + f.g] = seg.g ? 1 : 0;
  buf[at + f.avl] = seg.avl ? 1 : 0;
  buf[at + f.unusable] = seg.unusable ? 1 : 0;
}

export function decodeSregs(buf: Buffer): Sregs {
  const f = s.kvm_sregs;
  const table = (at: number): DescriptorTable => ({
    base: buf.readBigUInt64LE(at + s.kvm_dtable.base),
    limit: buf.readUInt16LE(at + s.kvm_dtable.limit),
  });
  const sregs = {
    gdt: table(f.gdt),
    idt: table(f.idt),
    cr0: buf.readBigUInt64LE(f.cr0),
    cr2: buf.readBigUInt64LE(f.cr2),
    cr3: buf.readBigUInt64LE(f.cr3),
    cr4: buf.readBigUInt64LE(f.cr4),
    cr8: buf.readBigUInt64LE(f.cr8),
    efer: buf.readBigUInt64LE(f.efer),
    apicBase: buf.readBigUInt64LE(f.apic_base),
    interruptBitmap: [0, 1, 2, 3].map((i) => buf.readBigUInt64LE(f.interrupt_bitmap + 8 * i)) as Sregs['interruptBitmap'],
  } as Sregs;
  for (const name of SEGMENT_NAMES) sregs[name] = decodeSegment(buf, f[name]);
  return sregs;
}

export function encodeSregs(sregs: Sregs, buf = Buffer.alloc(s.kvm_sregs.size)): Buffer {
  const f = s.kvm_sregs;
  for (const name of SEGMENT_NAMES) encodeSegment(sregs[name], buf, f[name]);
  for (const name of ['gdt', 'idt'] as const) {
    buf.writeBigUInt64LE(BigInt.asUintN(64, sregs[name].base), f[name] + s.kvm_dtable.base);
    buf.writeUInt16LE(sregs[name].limit, f[name] + s.kvm_dtable.limit);
  }
  for (const name of ['cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer'] as const) buf.writeBigUInt64LE(BigInt.asUintN(64, sregs[name]), f[name]);
  buf.writeBigUInt64LE(sregs.apicBase, f.apic_base);
  sregs.interruptBitmap.forEach((word, i) => buf.writeBigUInt64LE(word, f.interrupt_bitmap + 8 * i));
  return buf;
}

export function decodeFpu(buf: Buffer): Fpu {
  const f = s.kvm_fpu;
  return {
    fpr: Uint8Array.prototype.slice.call(buf, f.fpr, f.fpr + 128),
    fcw: buf.readUInt16LE(f.fcw),
    fsw: buf.readUInt16LE(f.fsw),
    ftwx: buf[f.ftwx]!,
    lastOpcode: buf.readUInt16LE(f.last_opcode),
    lastIp: buf.readBigUInt64LE(f.last_ip),
    lastDp: buf.readBigUInt64LE(f.last_dp),
    xmm: Uint8Array.prototype.slice.call(buf, f.xmm, f.xmm + 256),
    mxcsr: buf.readUInt32LE(f.mxcsr),
  };
}

export function encodeFpu(fpu: Fpu, buf = Buffer.alloc(s.kvm_fpu.size)): Buffer {
  const f = s.kvm_fpu;
  buf.set(fpu.fpr.subarray(0, 128), f.fpr);
  buf.writeUInt16LE(fpu.fcw, f.fcw);
  buf.writeUInt16LE(fpu.fsw, f.fsw);
  buf[f.ftwx] = fpu.ftwx;
  buf.writeUInt16LE(fpu.lastOpcode, f.last_opcode);
  buf.writeBigUInt64LE(fpu.lastIp, f.last_ip);
  buf.writeBigUInt64LE(fpu.lastDp, f.last_dp);
  buf.set(fpu.xmm.subarray(0, 256), f.xmm);
  buf.writeUInt32LE(fpu.mxcsr, f.mxcsr);
  return buf;
}
