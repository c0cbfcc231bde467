// Instruction text for people: error messages and --trace-mmio lines. Formatting is not a hot path,
// so it is plain TypeScript over DecodedInstruction, and it follows one reference exactly: iced-x86's
// Intel (XED-style) formatter with two options set, memory sizes always shown and a space after each
// comma, which reads like `objdump -M intel`:
//
//   mov dword ptr [rax+10h], ecx      rep movsb byte ptr [rdi], byte ptr [rsi]      call 0FFFFFFFF81000005h
//
// format.test.ts holds the two to the same text on generated encodings and on the kernel sample; the
// differences it tolerates are listed there.
import type { DecodedInstruction, MemoryOperand, Operand } from './record.js';
import type { Register } from './registers.js';

export interface FormatOptions {
  /** Only Intel syntax so far (iced-x86 FormatterSyntax.Intel). */
  syntax: 'intel';
}

const STRING_OPS = /^(movs|cmps|stos|lods|scas|ins|outs)[bwdq]$/;
const REPE_OPS = /^(cmps|scas)[bwdq]$/;
const PADLOCK = /^(xstore|xstore_alt|xcrypt[a-z]+|xsha\w+|montmul|ccs_hash|ccs_encrypt|undoc)$/;
const MASKMOV = /^v?maskmov(q|dqu)$/;
const RAX_MEMORY = /^(monitor|monitorx|clzero)$/;
const IMPLICIT_REGISTERS: Partial<Record<string, string[]>> = {
  vmrun: ['rAX'], vmload: ['rAX'], vmsave: ['rAX'], skinit: ['eax'], invlpga: ['rAX', 'ecx'], clzero: ['rAX'], invlpgb: ['rAX'], pvalidate: ['rAX'],
};
const ADDRESS_AX = { 2: 'ax', 4: 'eax', 8: 'rax' } as const;

// iced's Intel formatter names a few mnemonics as XED does.
const NAMES: Partial<Record<string, string>> = {
  xlatb: 'xlat',
  wait: 'fwait',
  prefetch: 'prefetch_exclusive',
  reservednop: 'nop',
  retf: 'ret far',
  sal: 'shl',
  cmpnbxadd: 'cmpaexadd',
  cmpzxadd: 'cmpexadd',
  cmpnzxadd: 'cmpnexadd',
  cmpnbexadd: 'cmpaxadd',
  cmpnlxadd: 'cmpgexadd',
  cmpnlexadd: 'cmpgxadd',
};

// x87 arithmetic and loads name ST(0) with a memory operand (fadd st, dword ptr [rax]); stores put it last.
const X87_LOADS = /^f(i?(add|mul|com|comp|sub|subr|div|divr)|i?ld|bld)$/;
const X87_STORES = /^f(i?stp?|isttp|bstp)$/;
// Instructions with an operand size that neither the mnemonic nor the operands show, so that iced
// names a 66 prefix (data16): in every mode, and (branches) outside 64-bit mode, where 66 is ignored.
const DATA_SIZED = /^(push|pop|leave|enter|retf)$/;
const DATA_SIZED_LEGACY = /^(ret|call|jmp|j[a-z]+|loop[a-z]*)$/;

/** The instruction as text, e.g. "mov dword ptr [rax+10h], ecx"; "(bad)" unless its status is 'ok'. */
export function formatInstruction(d: DecodedInstruction, options: FormatOptions = { syntax: 'intel' }): string {
  if (options.syntax !== 'intel') throw new TypeError(`x86 syntax ${String(options.syntax)} is not supported`);
  if (d.status !== 'ok') return '(bad)';
  let mnemonic = NAMES[d.mnemonic] ?? d.mnemonic;
  // ST(i) from ModRM reads st(0) where the implicit ST(0) reads st.
  let operands = xedOperands(d, d.operands.map((op, i) => (i === d.stOperand && op.kind === 'register' && op.register === 'st0' ? 'st(0)' : operandText(d, op, i))));
  if (d.mnemonic === 'nop' && d.operands.length === 0 && (d.prefixes.operandSize || d.prefixes.rexW)) {
    mnemonic = 'xchg';
    operands = d.prefixes.rexW ? ['rax', 'rax'] : ['ax', 'ax'];
  }
  if (d.mnemonic === 'pclmulqdq' || d.mnemonic === 'vpclmulqdq') {
    const last = d.operands[d.operands.length - 1];
    const imm = last.kind === 'immediate' ? Number(last.value) : -1;
    const pseudo = { 0x00: 'lqlq', 0x01: 'hqlq', 0x10: 'lqhq', 0x11: 'hqhq' }[imm];
    if (pseudo) {
      mnemonic = `${d.mnemonic.slice(0, -3)}${pseudo}dq`;
      operands = operands.slice(0, -1);
    }
  }
  const text = [...prefixWords(d), mnemonic].join(' ');
  return operands.length ? `${text} ${operands.join(', ')}` : text;
}

/**
 * The operand texts as XED lists them, where that differs from the decoded operands: implicit rAX of
 * lods/stos/scas and the AL index of xlat are hidden, x87 memory forms name ST(0), fcom/fxch with
 * ST(1) and the popping arithmetic on ST(1), ST(0) show none, and some registers appear at the size
 * the instruction uses.
 */
function xedOperands(d: DecodedInstruction, texts: string[]): string[] {
  let operands = texts;
  if (isString(d) && !/^(ins|outs)/.test(d.mnemonic)) {
    operands = operands.filter((_, i) => d.operands[i].kind === 'memory'); // lods/stos/scas hide rAX
  }
  // SVM and a few others name their implicit registers, rAX at the address size.
  const implicit = IMPLICIT_REGISTERS[d.mnemonic];
  if (implicit) operands = implicit.map((r) => (r === 'rAX' ? ADDRESS_AX[d.addressSize] : r));
  // MASKMOVQ's destination [rDI] is implicit: only a segment override shows, as a last operand.
  if (MASKMOV.test(d.mnemonic)) operands = [...operands.slice(1), ...(d.prefixes.segment ? [d.prefixes.segment] : [])];
  if (d.mnemonic === 'xlatb' && d.operands[0]?.kind === 'memory') operands = [memoryText(d, { ...d.operands[0], index: null })];
  const first = d.operands[0];
  if (d.operands.length === 1 && first.kind === 'memory' && d.mnemonic.startsWith('f')) {
    if (X87_LOADS.test(d.mnemonic)) operands = ['st', ...operands];
    else if (X87_STORES.test(d.mnemonic)) operands = [...operands, 'st'];
  }
  if (d.operands.length === 2 && d.operands[1].kind === 'register' && d.operands[1].register === 'st1' && /^f(com|comp|ucom|ucomp|xch)$/.test(d.mnemonic)) operands = [];
  if (d.operands.length === 1 && first.kind === 'register' && first.register.startsWith('st')) {
    if (/^f(st|stp|stpnce)$/.test(d.mnemonic)) operands = [...operands, 'st'];
    else if (d.mnemonic === 'fld') operands = ['st', ...operands];
  }
  if (d.operands.length === 2 && /^f[a-z]+p$/.test(d.mnemonic) && first.kind === 'register' && first.register === 'st1' && d.operands[1].kind === 'register' && d.operands[1].register === 'st0') operands = [];
  if (d.mnemonic === 'imul' && d.operands.length === 3 && first.kind === 'register' && d.operands[1].kind === 'register' && d.operands[1].register === first.register) {
    operands = [operands[0], operands[2]];
  }
  // XED names the 32-bit register where the instruction uses only its low part.
  if (/^v?(pinsrw|pextrw|pinsrb|pextrb|extractps|pmovmskb|movmskps|movmskpd|tpause|umwait)$/.test(d.mnemonic)) operands = operands.map((t, i) => (d.operands[i].kind === 'register' ? dword(t) : t));
  if (/^(lldt|ltr|verr|verw|lmsw)$/.test(d.mnemonic)) operands = operands.map((t, i) => (d.operands[i].kind === 'register' ? word(t) : t));
  if (d.mnemonic === 'cldemote') operands = operands.map((t) => t.replace(/^byte ptr /, ''));
  if (d.mnemonic === 'lea') operands = operands.map((t, i) => (d.operands[i].kind === 'memory' ? t.replace(/^[a-z]s:/, '') : t));
  if (d.mnemonic === 'arpl' || (d.mnemonic === 'mov' && first.kind === 'register' && /^[ecdsfg]s$/.test(first.register))) {
    operands = operands.map((t, i) => (d.operands[i].kind === 'register' ? word(t) : t));
  }
  return operands;
}

/** The 16-bit name of a general register (mov es, cx shows the register at the size it is used). */
function word(name: string): string {
  if (/^[er][a-z]{2}$/.test(name)) return name.slice(1);
  if (/^r\d+d?$/.test(name)) return `${name.replace(/d$/, '')}w`;
  return name;
}

function dword(name: string): string {
  if (/^r[a-z]{2}$/.test(name)) return `e${name.slice(1)}`;
  if (/^r\d+$/.test(name)) return `${name}d`;
  return name;
}

function prefixWords(d: DecodedInstruction): string[] {
  const words: string[] = [];
  const p = d.prefixes;
  const string = isString(d);
  const memory = d.operands.find((op) => op.kind === 'memory');
  const sized = DATA_SIZED.test(d.mnemonic) || (d.bitness !== 64 && DATA_SIZED_LEGACY.test(d.mnemonic));
  const shown = d.operands.some((op) => (op.kind === 'register' && !/^[ecdsfg]s$/.test(op.register)) || op.kind === 'memory');
  if (p.rexW && d.mnemonic === 'retf') words.push('data64');
  else if (p.operandSize && !p.mandatory && !p.rexW && sized && !shown) {
    words.push(d.bitness === 16 ? 'data32' : 'data16');
  }
  if (p.addressSize && (/^loop/.test(d.mnemonic) || d.moffs)) words.push(d.addressSize === 2 ? 'addr16' : d.addressSize === 4 ? 'addr32' : 'addr64');
  const seg = p.segment;
  if (seg && isConditional(d)) {
    if (seg === 'cs') words.push('hint-not-taken');
    else if (seg === 'ds') words.push('hint-taken');
  }
  const hle = memory !== undefined && (d.lock || d.mnemonic === 'xchg');
  const source = d.operands[1];
  const movToMemory = d.mnemonic === 'mov' && !d.moffs && memory !== undefined && memory === d.operands[0] && (source?.kind === 'immediate' || (source?.kind === 'register' && !/^[ecdsfg]s$/.test(source.register)));
  if (d.rep && (hle || movToMemory)) words.push('xrelease');
  else if (d.repne && hle) words.push('xacquire');
  if (d.lock) words.push('lock');
  // PadLock, MASKMOVQ and MONITOR address memory through rSI/rDI/rAX without showing it: the address
  // size shows instead (and for MONITOR and CLZERO, which shows rAX, a segment override).
  const hidden = PADLOCK.test(d.mnemonic) || MASKMOV.test(d.mnemonic) || /^monitorx?$/.test(d.mnemonic);
  if (p.addressSize && hidden) words.push(d.addressSize === 2 ? 'addr16' : d.addressSize === 4 ? 'addr32' : 'addr64');
  if (seg && RAX_MEMORY.test(d.mnemonic)) words.push(seg);
  if (PADLOCK.test(d.mnemonic)) {
    // Its required F3 reads as rep.
    if (d.rep || (p.mandatory && !d.repne)) words.push('rep');
    else if (d.repne) words.push('repne');
  } else if (string) {
    if (d.rep) words.push(REPE_OPS.test(d.mnemonic) ? 'repe' : 'rep');
    else if (d.repne) words.push('repne');
  } else if (d.repne && isBranch(d) && !d.far && d.operands[0]?.kind !== 'farBranch' && !(d.mnemonic === 'jmp' && d.short)) words.push('bnd');
  else if (d.rep && d.mnemonic === 'ret' && d.operands.length === 0) words.push('rep');
  if (seg === 'ds' && isIndirectBranch(d)) words.splice(words.includes('bnd') ? words.indexOf('bnd') : words.length, 0, 'notrack');
  return words;
}

/** movs/cmps/stos/lods/scas/ins/outs, not the SSE movsd and cmpsd. */
function isString(d: DecodedInstruction): boolean {
  return STRING_OPS.test(d.mnemonic) && !d.operands.some((op) => op.kind === 'register' && op.register.startsWith('xmm'));
}

function isConditional(d: DecodedInstruction): boolean {
  return d.mnemonic !== 'jmp' && !/^j[er]?cxz$/.test(d.mnemonic) && /^j/.test(d.mnemonic) && d.operands[0]?.kind === 'nearBranch';
}

function isBranch(d: DecodedInstruction): boolean {
  return d.mnemonic === 'ret' || d.mnemonic === 'call' || d.mnemonic === 'jmp' || (isConditional(d) && !/^j[er]?cxz$/.test(d.mnemonic));
}

function isIndirectBranch(d: DecodedInstruction): boolean {
  return (d.mnemonic === 'call' || d.mnemonic === 'jmp') && (d.operands[0]?.kind === 'register' || d.operands[0]?.kind === 'memory');
}

function operandText(d: DecodedInstruction, op: Operand, i: number): string {
  let text: string;
  switch (op.kind) {
    case 'register':
      text = registerName(op.register);
      break;
    case 'immediate':
      text = hex(immediateValue(d, op.value));
      break;
    case 'nearBranch': {
      const digits = d.bitness === 64 ? 16 : (d.bitness === 16) !== d.prefixes.operandSize ? 4 : 8;
      text = (d.short && (d.mnemonic === 'jmp' || isConditional(d)) && !/^j[er]?cxz$/.test(d.mnemonic) ? 'short ' : '') + hex(op.target, digits);
      break;
    }
    case 'farBranch':
      return `far ${hex(BigInt(op.offset))}, ${hex(BigInt(op.selector))}`;
    case 'memory':
      text = memoryText(d, op);
      break;
  }
  if (i === 0 && d.mask) text += `{${d.mask.register}}${d.mask.zeroing ? '{z}' : ''}`;
  if (i === 0 && d.sae) text += '{sae}';
  if (i === 0 && d.rounding && !ignoresRounding(d)) text += `{${d.rounding === 'rn' ? 'rne' : d.rounding}-sae}`;
  return text;
}

/** Conversions that are exact, where the encoding may name a rounding mode but nothing rounds (iced shows none). */
function ignoresRounding(d: DecodedInstruction): boolean {
  if (d.mnemonic === 'vcvtdq2pd' || d.mnemonic === 'vcvtudq2pd') return true;
  const source = d.operands[2];
  return (d.mnemonic === 'vcvtsi2sd' || d.mnemonic === 'vcvtusi2sd') && source?.kind === 'register' && /^(e[a-z]{2}|r\d+d)$/.test(source.register);
}

function immediateValue(d: DecodedInstruction, value: bigint): bigint {
  // Sign-extended immediates are shown at the operation's size.
  if (value > 0xffff_ffffn && d.operandSize > 0 && d.operandSize < 8) return value & ((1n << BigInt(8 * d.operandSize)) - 1n);
  return value;
}

function registerName(r: Register): string {
  if (r === 'st0') return 'st';
  if (/^r\d+l$/.test(r)) return `${r.slice(0, -1)}b`;
  if (r.startsWith('st')) return `st(${r.slice(2)})`;
  return r;
}

const SIZE_NAMES: Partial<Record<number, string>> = {
  1: 'byte',
  2: 'word',
  4: 'dword',
  6: 'fword',
  8: 'qword',
  10: 'tbyte',
  16: 'xmmword',
  32: 'ymmword',
  64: 'zmmword',
  48: 'mem384',
};

const ADDRESS_MASK = { 2: 0xffffn, 4: 0xffff_ffffn, 8: (1n << 64n) - 1n } as const;

function memoryText(d: DecodedInstruction, m: MemoryOperand): string {
  let sizeName = SIZE_NAMES[m.size];
  if (m.size === 10 && /^[ls][gi]dt$/.test(d.mnemonic)) sizeName = 'fword';
  else if (m.size === 14 && /^f(ld|nst)env$/.test(d.mnemonic)) sizeName = 'fpuenv14';
  else if (m.size === 94 && /^f(rstor|nsave)$/.test(d.mnemonic)) sizeName = 'fpustate94';
  const far = d.far && (d.mnemonic === 'call' || d.mnemonic === 'jmp') ? 'far ' : '';
  const size = sizeName ? `${sizeName} ptr ` : '';
  let inside: string;
  if (m.base === 'rip' || m.base === 'eip') {
    const target = d.ip + BigInt(d.length) + m.displacement;
    inside = hex(target & (m.base === 'rip' ? ADDRESS_MASK[8] : ADDRESS_MASK[4]));
  } else {
    const parts: string[] = [];
    if (m.base) parts.push(m.base);
    // An index without a base shows even a scale of 1.
    if (m.index) parts.push(m.scale === 1 && m.base !== null ? m.index : `${m.index}*${m.scale}`);
    inside = parts.join('+');
    if (parts.length === 0) inside = hex(m.displacement & ADDRESS_MASK[d.addressSize]);
    else if (m.displacement < 0n) inside += `-${hex(-m.displacement)}`;
    else if (m.displacement > 0n) inside += `+${hex(m.displacement)}`;
  }
  const broadcast = d.broadcast ? `{1to${d.broadcastCount}}` : '';
  return `${far}${size}${segmentText(d, m)}[${inside}]${broadcast}`;
}

function segmentText(d: DecodedInstruction, m: MemoryOperand): string {
  const prefix = d.prefixes.segment;
  if (prefix === null) return '';
  const isDestination = m.segment === 'es' && m.base !== null && /di$/.test(m.base) && isString(d);
  if (d.bitness === 64) {
    if (prefix !== 'fs' && prefix !== 'gs') return '';
    return `${isDestination ? 'es' : m.segment}:`;
  }
  // A string destination (always ES) names its segment when the source does.
  if (isDestination) return prefix === 'ds' ? '' : 'es:';
  const usual = m.base !== null && /^[re]?(sp|bp)$/.test(m.base) ? 'ss' : 'ds';
  return m.segment === usual && prefix === usual ? '' : `${m.segment}:`;
}

/** iced's number style: 0-9 in decimal, else upper-case hex with an h suffix and a leading 0 before a letter. */
function hex(value: bigint, width = 0): string {
  if (value >= 0n && value <= 9n) return value.toString();
  const digits = value.toString(16).toUpperCase().padStart(width, '0');
  return /^[A-F]/.test(digits) ? `0${digits}h` : `${digits}h`;
}
