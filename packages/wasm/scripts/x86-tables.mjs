// Compiles assembly/x86/opcodes.txt (the readable opcode table; its header explains the notation) into
// assembly/x86/tables.ts (the decoder's packed tables) and src/x86/mnemonics.ts (the names of the
// mnemonic ids the decoder reports). Both outputs are checked in; src/x86/tables.test.ts fails when
// they are older than the table source. `node scripts/x86-tables.mjs` regenerates them.
//
// Each opcode of each map has a root entry; an entry is either a leaf (mnemonic, operands, flags) or a
// selector that picks one of its children by a field of the instruction (ModRM.reg, mod, rm, the
// mandatory prefix, W, L, the mode, the operand or address size). The decoder walks from the root to a
// leaf, so no opcode needs code of its own.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const SOURCE = `${packageDir}assembly/x86/opcodes.txt`;
const TABLES = `${packageDir}assembly/x86/tables.ts`;
const MNEMONICS = `${packageDir}src/x86/mnemonics.ts`;

// Root maps, 256 entries each, in this order.
// e5 and e6 are the EVEX maps 5 and 6 (AVX512-FP16), which have no legacy or VEX counterpart.
export const MAPS = ['one', '0f', '0f38', '0f3a', 'v0f', 'v0f38', 'v0f3a', 'e0f', 'e0f38', 'e0f3a', '3dnow', 'e5', 'e6'];

// Operand methods (bits 0-4 of an operand word), sizes (bits 5-9) and fixed registers (bits 10-15).
export const METHODS = ['none', 'E', 'G', 'M', 'R', 'I', 'Is', 'J', 'O', 'A', 'S', 'C', 'D', 'P', 'Q', 'N', 'V', 'W', 'U', 'H', 'B', 'Z', 'X', 'Y', 'XL', 'T', 'L', 'fix', 'XD', 'K', 'KR', 'KH'];
export const SIZES = ['none', 'b', 'w', 'd', 'q', 'dq', 'qq', 't', 'v', 'z', 'y', 'n', 'p', 's', 'x', 'hx', 'qx', 'ox', 'ss', 'sd', 'vw', 'yb', 'yw', 'yd', 'vv', 'vd', 'env', 'fsave', 'fxsave', 'xsave', 'm64b', 'm384'];
export const FIXED = ['AL', 'CL', 'DX', 'AX', 'rAX', 'eAX', 'ST0', 'ES', 'CS', 'SS', 'DS', 'FS', 'GS', '1'];
// Selector kinds (entry kind 2 and up) and how many children each has.
export const SELECTORS = { reg: 8, mod: 2, rm: 8, p: 4, w: 2, l: 4, mode: 2, osz: 3, asz: 3, rexb: 2 };
const KIND = { invalid: 0, leaf: 1, ...Object.fromEntries(Object.keys(SELECTORS).map((k, i) => [k, i + 2])) };
// Entry flags (bits 20 and up of the info word).
// EVEX: nomask, a form that takes no opmask or zeroing; memDest, a form whose destination may be memory,
// where zeroing-masking is invalid; bcst, EVEX.b broadcasts the memory operand; er, EVEX.b on the
// register form selects static rounding or SAE. Without bcst or er, EVEX.b is invalid. kDest, a form
// that writes an opmask register, where zeroing is invalid. tuple1 (bits 34-35): the disp8*N of a vector
// memory operand accessed one element at a time (compress/expand, the SDM's Tuple1 Scalar): N is 1 (t1b),
// 2 (t1w) or the EVEX.W element size, 4 or 8 (t1s), not the operand's size. bcst16: bcst with a 16-bit
// element (AVX512-FP16), where EVEX.W would otherwise pick 32 or 64 bits. unique: the destination register
// must differ from the source registers (the FP16 complex multiplies), else #UD. imm4: a fifth operand,
// imm8[3:0], after the register in imm8[7:4] (VPERMIL2PS/PD). evexVsib: an EVEX gather, scatter or
// gather/scatter prefetch, which needs an opmask and takes no zeroing, and whose EVEX.V' extends the index.
// sae: er that only suppresses exceptions, without a rounding mode (the table's `sae` sets both).
export const FLAGS = { modrm: 20, d64: 21, f64: 22, lock: 23, access: 24, reg: 26, asz: 27, usesVvvv: 28, nomask: 29, memDest: 30, bcst: 31, er: 32, kDest: 33, tuple1: 34, bcst16: 36, unique: 37, imm4: 38, evexVsib: 39, sae: 40 };
const TUPLE1 = { t1b: 1, t1w: 2, t1s: 3 };
const ACCESS = { na: 0, rd: 1, wr: 2, rw: 3 };
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const PREFIX = { np: 0, 66: 1, F3: 2, F2: 3 };
const MODRM_METHODS = new Set(['E', 'G', 'M', 'R', 'S', 'C', 'D', 'P', 'Q', 'N', 'V', 'W', 'U', 'T', 'K', 'KR']);

function fail(line, message) {
  throw new Error(`${SOURCE}:${line.no}: ${message}: ${line.text}`);
}

/** "0F3A0F" → { map: '0f3a', opcode: 0x0f }; "0F40-4F" → a range; "EMAP5.58" → { map: 'e5', opcode: 0x58 }. */
function parseOpcode(line, token) {
  const fp16 = /^EMAP([56])\.([0-9A-F]{2})(?:-([0-9A-F]{2}))?$/.exec(token);
  if (fp16) return { map: `e${fp16[1]}`, from: parseInt(fp16[2], 16), to: parseInt(fp16[3] ?? fp16[2], 16) };
  const m = /^(V|E)?(0F0F|0F38|0F3A|0F)?([0-9A-F]{2})(?:-([0-9A-F]{2}))?$/.exec(token);
  if (!m) fail(line, `bad opcode ${token}`);
  const [, enc, esc, first, last] = m;
  let map = enc ? `${enc.toLowerCase()}${(esc ?? '').toLowerCase()}` : esc ? esc.toLowerCase() : 'one';
  if (esc === '0F0F') map = '3dnow';
  if (!MAPS.includes(map)) fail(line, `no map ${map}`);
  const from = parseInt(first, 16);
  return { map, from, to: last ? parseInt(last, 16) : from };
}

/** "/0-/7" or "rm=0-6" → [kind, values]; "p=np|66" → ['p', [0, 1]]. */
function parseSelector(line, token) {
  let m = /^\/([0-7])(?:-\/([0-7]))?$/.exec(token);
  if (m) return ['reg', range(+m[1], m[2] === undefined ? +m[1] : +m[2])];
  m = /^(mod|rm|p|w|l|mode|rexb)=(.+)$/.exec(token);
  if (!m) return undefined;
  const [, kind, value] = m;
  if (kind === 'mod') return ['mod', [value === 'm' ? 0 : 1]];
  if (kind === 'p') return ['p', value.split('|').map((p) => PREFIX[p] ?? fail(line, `bad prefix ${p}`))];
  if (kind === 'mode') return ['mode', [value === '64' ? 1 : 0]];
  const r = /^(\d)(?:-(\d))?$/.exec(value) ?? fail(line, `bad selector ${token}`);
  return [kind, range(+r[1], r[2] === undefined ? +r[1] : +r[2])];
}

function range(a, b) {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

// VSIB memory operands (gathers): "Md:vx" has a vector index of the vector length, "Md:hx" one of half
// of it (xmm, or ymm at 512 bits: EVEX qword elements with dword indexes), "Mq:xmm" an xmm index;
// "M:sib" (AMX tile loads and stores) needs a SIB byte but indexes with a general register.
// AMX tile registers are the opmask methods with a bank bit: "K:tmm", "KR:tmm", "KH:tmm".
const VSIB = { vx: 3 << 10, xmm: 1 << 10, sib: 2 << 10, hx: 5 << 10 };
const TILE = 1 << 10;

/** One operand token ("Ev", "rAX", "Wss", "Mfxsave", "Md:vx") → its 16-bit word. */
function operandWord(line, token) {
  if (token.includes(':')) {
    const [method, bank] = token.split(':');
    if (['K', 'KR', 'KH'].includes(method) && bank === 'tmm') return operandWord(line, method) | TILE;
    if (!method.startsWith('M') || !(bank in VSIB)) fail(line, `bad operand ${token}`);
    return operandWord(line, method) | VSIB[bank];
  }
  const fixed = FIXED.indexOf(token);
  if (fixed >= 0) return METHODS.indexOf('fix') | (fixed << 10);
  if (token === 'T') return METHODS.indexOf('T');
  const m = /^(XL|XD|KR|KH|K|Is|[EGMRIJOASCDPQNVWUHBZXYL])(.*)$/.exec(token) ?? fail(line, `bad operand ${token}`);
  const method = METHODS.indexOf(m[1]);
  const size = m[2] === '' ? 0 : SIZES.indexOf(m[2]);
  if (size < 0) fail(line, `bad operand size in ${token}`);
  return method | (size << 5);
}

function methodOf(word) {
  return METHODS[word & 31];
}

/** Parses one line into expanded records: { map, opcode, path: [[kind, value]...], mnemonic, operands, flags }. */
function parseLine(line) {
  const tokens = line.text.split(/\s+/);
  const { map, from, to } = parseOpcode(line, tokens.shift());
  const selectors = [];
  while (tokens.length && parseSelector(line, tokens[0])) selectors.push(parseSelector(line, tokens.shift()));
  let spec = tokens.shift() ?? fail(line, 'no mnemonic');
  const shorthand = ['sse', 'ssep', 'mmx', 'sse2'].includes(spec) ? spec : undefined;
  if (shorthand) spec = tokens.shift();
  // Operand sets are the tokens between the mnemonic and the flags.
  const sets = tokens.filter((t) => !isFlag(t)).map((t) => t.split(',').map((op) => operandWord(line, op)));
  const flags = tokens.filter(isFlag);
  const count = to - from + 1;
  const selectorRange = selectors.find(([, values]) => values.length > 1 && values.length === spec.split(',').length && spec.includes(','));
  const mnemonics = spec.includes('{cc}') ? CC.map((cc) => spec.replace('{cc}', cc)) : spec.split(',');

  const records = [];
  const emit = (opcode, path, mnemonic, operands, extra = []) => {
    records.push({ map, opcode, path, mnemonic, operands, flags: [...flags, ...extra], line });
  };
  if (shorthand) {
    expandShorthand(line, shorthand, spec, from, selectors, flags, emit);
    return records;
  }
  if (selectorRange) {
    // "/0-/7 add,or,..." or "rm=0-6 fld1,...": one mnemonic per selector value.
    const [kind, values] = selectorRange;
    values.forEach((value, i) => {
      const path = selectors.flatMap(([k, vs]) => (k === kind ? [[k, [value]]] : [[k, vs]]));
      for (let op = from; op <= to; op++) emit(op, path, mnemonics[i], sets[0] ?? []);
    });
    return records;
  }
  for (let i = 0; i < count; i++) {
    const mnemonic = mnemonics.length === count ? mnemonics[i] : mnemonics[0];
    const operands = sets.length === count && count > 1 ? sets[i] : (sets[0] ?? []);
    emit(from + i, selectors, mnemonic, operands);
  }
  return records;
}

function isFlag(token) {
  return ['lock', 'd64', 'f64', 'rd', 'wr', 'rw', 'na', 'asz', 'reg', 'v', 'vh', 'vd', 'l0', 'vw0', 'vw1', 'nomask', 'bcst', 'bcst16', 'er', 't1b', 't1w', 't1s', 'unique', 'imm4', 'sae'].includes(token);
}

// sse NAME: ps/pd/ss/sd on np/66/F3/F2; ssep: ps/pd; mmx: Pq,Qq on np and Vx,Wx on 66; sse2: 66 only.
function expandShorthand(line, shorthand, name, opcode, selectors, flags, emit) {
  const op = (t) => operandWord(line, t);
  const forms = {
    sse: [['np', `${name}ps`, 'Vx,Wx'], ['66', `${name}pd`, 'Vx,Wx'], ['F3', `${name}ss`, 'Vdq,Wss', 'scalar'], ['F2', `${name}sd`, 'Vdq,Wsd', 'scalar']],
    ssep: [['np', `${name}ps`, 'Vx,Wx'], ['66', `${name}pd`, 'Vx,Wx']],
    mmx: [['np', name, 'Pq,Qq', 'novex'], ['66', name, 'Vx,Wx']],
    sse2: [['66', name, 'Vx,Wx']],
  }[shorthand];
  for (const [prefix, mnemonic, operands, kind] of forms) {
    let extra = [];
    if (kind === 'novex') extra = flags.filter((f) => !['v', 'vh', 'vd'].includes(f)).length === flags.length ? [] : ['novex'];
    if (kind === 'scalar' && flags.includes('v')) extra = ['scalarvh'];
    emit(opcode, [...selectors, ['p', [PREFIX[prefix]]]], mnemonic, operands.split(',').map(op), extra);
  }
}

/** Adds the VEX twin of each record flagged v/vh/vd. */
function vexTwins(records) {
  const twins = [];
  for (const r of records) {
    if (r.flags.includes('novex')) continue;
    const kind = r.flags.includes('scalarvh') ? 'vh' : ['v', 'vh', 'vd'].find((f) => r.flags.includes(f));
    if (!kind) continue;
    const H = (word) => METHODS.indexOf('H') | (word & (31 << 5));
    let operands = r.operands;
    if (kind === 'vh') operands = [operands[0], H(operands[0]), ...operands.slice(1)];
    if (kind === 'vd') operands = [H(operands[0]), ...operands];
    const path = [...r.path];
    if (r.flags.includes('l0')) path.push(['l', [0]]);
    if (r.flags.includes('vw0') || r.flags.includes('vw1')) path.push(['w', [r.flags.includes('vw1') ? 1 : 0]]);
    twins.push({ ...r, map: `v${r.map}`, path, mnemonic: `v${r.mnemonic}`, operands, flags: r.flags.filter((f) => !['v', 'vh', 'vd', 'scalarvh', 'l0', 'vw0', 'vw1'].includes(f)) });
  }
  return [...records, ...twins];
}

export function parseTable(text = readFileSync(SOURCE, 'utf8')) {
  const records = [];
  text.split('\n').forEach((raw, i) => {
    const textLine = raw.replace(/#.*/, '').trim();
    if (textLine) records.push(...parseLine({ no: i + 1, text: textLine }));
  });
  return vexTwins(records);
}

/** Builds the entry trees. Returns { entries: [{ kind, value, flags, operands }], mnemonics }. */
export function buildTables(records) {
  const mnemonics = ['invalid', ...[...new Set(records.flatMap((r) => r.mnemonic.split('/')))].sort()];
  const mnemonicId = new Map(mnemonics.map((m, i) => [m, i]));
  const roots = Array.from({ length: MAPS.length * 256 }, () => ({ kind: 'invalid' }));
  for (const r of records) {
    let path = [...r.path];
    const forms = r.mnemonic.split('/');
    if (forms.length === 3) path = [...path, [r.flags.includes('asz') ? 'asz' : 'osz', null]];
    for (const target of targets(roots[MAPS.indexOf(r.map) * 256 + r.opcode], path, r)) {
      if (target.node.kind !== 'invalid') fail(r.line, 'two lines decode the same encoding');
      const mnemonic = target.osz === undefined ? r.mnemonic : forms[target.osz];
      Object.assign(target.node, leaf(r, mnemonicId.get(mnemonic)));
    }
  }
  // Flatten: roots first, then each selector's children contiguously.
  const entries = roots.slice();
  const queue = roots.slice();
  while (queue.length) {
    const node = queue.shift();
    if (!node.children) continue;
    node.link = entries.length;
    entries.push(...node.children);
    queue.push(...node.children);
  }
  for (const root of roots) root.modrm = needsModrm(root);
  return { entries, mnemonics, roots };
}

// Walks (creating) the selector nodes along path; yields each leaf slot the record fills.
function* targets(node, path, r) {
  if (path.length === 0) {
    yield { node };
    return;
  }
  const [[kind, values], ...rest] = path;
  if (node.kind === 'invalid') Object.assign(node, { kind, children: Array.from({ length: SELECTORS[kind] }, () => ({ kind: 'invalid' })) });
  if (node.kind !== kind) fail(r.line, `selector ${kind} where an earlier line selects by ${node.kind}`);
  const chosen = values ?? range(0, SELECTORS[kind] - 1);
  for (const v of chosen) {
    for (const t of targets(node.children[v], rest, r)) yield values === null ? { ...t, osz: v } : t;
  }
}

function leaf(r, mnemonic) {
  const f = r.flags;
  const memoryIndex = r.operands.findIndex((w) => ['E', 'M', 'W', 'Q', 'X', 'Y', 'XL', 'XD', 'KR', 'O'].includes(methodOf(w)));
  let access = f.find((x) => x in ACCESS);
  if (!access) access = memoryIndex === 0 && r.operands.length > 0 && !['X', 'Y'].includes(methodOf(r.operands[0])) ? 'rw' : 'rd';
  // A string move reads its source and writes its destination: the destination's access is what counts.
  if (r.mnemonic.startsWith('movs') && methodOf(r.operands[0]) === 'Y') access = 'wr';
  return {
    kind: 'leaf',
    mnemonic,
    operands: r.operands,
    d64: f.includes('d64'),
    f64: f.includes('f64'),
    lock: f.includes('lock') && ['E', 'M'].includes(methodOf(r.operands[0] ?? 0)),
    access: ACCESS[access],
    reg: f.includes('reg'),
    asz: f.includes('asz'),
    usesVvvv: r.operands.some((w) => ['H', 'B', 'KH'].includes(methodOf(w))),
    nomask: f.includes('nomask'),
    bcst: f.includes('bcst') || f.includes('bcst16'),
    bcst16: f.includes('bcst16'),
    unique: f.includes('unique'),
    imm4: f.includes('imm4'),
    evexVsib: r.map.startsWith('e') && r.operands.some((w) => methodOf(w) === 'M' && ((w >> 10) & 1) !== 0),
    er: f.includes('er') || f.includes('sae'),
    sae: f.includes('sae'),
    tuple1: TUPLE1[f.find((t) => t in TUPLE1)] ?? 0,
    kDest: r.map.startsWith('e') && r.operands.length > 0 && methodOf(r.operands[0]) === 'K',
    memDest: r.map.startsWith('e') && memoryIndex === 0 && ACCESS[access] !== ACCESS.rd,
    line: r.line,
  };
}

function needsModrm(node) {
  if (node.kind === 'invalid') return false;
  if (['reg', 'mod', 'rm'].includes(node.kind)) return true;
  if (node.children) return node.children.some(needsModrm);
  return node.operands.some((w) => MODRM_METHODS.has(methodOf(w)));
}

function infoWord(node, modrm) {
  let info = BigInt(node.kind === 'leaf' ? node.mnemonic : (node.link ?? 0)) | (BigInt(KIND[node.kind]) << 16n);
  if (modrm) info |= 1n << BigInt(FLAGS.modrm);
  for (const flag of ['d64', 'f64', 'lock', 'reg', 'asz', 'usesVvvv', 'nomask', 'memDest', 'bcst', 'er', 'kDest', 'bcst16', 'unique', 'imm4', 'evexVsib', 'sae']) if (node[flag]) info |= 1n << BigInt(FLAGS[flag]);
  if (node.kind === 'leaf') info |= BigInt(node.access) << BigInt(FLAGS.access);
  if (node.tuple1) info |= BigInt(node.tuple1) << BigInt(FLAGS.tuple1);
  return info;
}

function operandsWord(node) {
  return (node.operands ?? []).reduce((acc, w, i) => acc | (BigInt(w) << BigInt(16 * i)), 0n);
}

export function render({ entries, mnemonics, roots }) {
  const modrmRoots = new Set(roots.filter((r) => r.modrm));
  // Selector nodes inherit the d64 flag of their leaves: the operand-size selector needs it.
  const words = [];
  for (const e of entries) {
    if (e.kind === 'osz' && e.children.some((c) => c.d64)) e.d64 = true;
    words.push(`0x${operandsWord(e).toString(16)}`, `0x${infoWord(e, modrmRoots.has(e)).toString(16)}`);
  }
  const consts = (names, prefix) => names.map((n, i) => `export const ${prefix}${n.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}: u32 = ${i};`).join('\n');
  const tables = `// Generated by scripts/x86-tables.mjs from opcodes.txt: edit those, not this file.
// ENTRIES holds 16-byte entries (operands word, info word); the first ${MAPS.length} x 256 are the roots of the maps.

${consts(MAPS, 'MAP_')}
${consts(METHODS, 'M_')}
${consts(SIZES, 'S_')}
${consts(FIXED, 'F_')}
export const K_INVALID: u32 = 0;
export const K_LEAF: u32 = 1;
${Object.keys(SELECTORS).map((k) => `export const K_${k.toUpperCase()}: u32 = ${KIND[k]};`).join('\n')}
${Object.entries(FLAGS).map(([k, v]) => `export const FLAG_${k.toUpperCase()}: u64 = ${v};`).join('\n')}
export const ENTRY_COUNT: u32 = ${entries.length};

// Mnemonic ids (the emulator dispatches on them).
${consts(mnemonics, 'MN_')}

// Legacy prefix class of each byte: 1 segment, 2 operand size, 3 address size, 4 LOCK, 5 REP, 6 REX.
export const PREFIX_CLASS: usize = memory.data<u8>([
${chunk(prefixClasses(), 32).map((row) => `  ${row.join(', ')},`).join('\n')}
]);

export const ENTRIES: usize = memory.data<u64>([
${chunk(words, 6).map((row) => `  ${row.join(', ')},`).join('\n')}
]);
`;
  const names = `// Generated by scripts/x86-tables.mjs from assembly/x86/opcodes.txt: the name of each mnemonic id the
// decoder reports, lower-cased iced-x86 Mnemonic names.
export const MNEMONICS = [
${chunk(mnemonics.map((m) => `'${m}'`), 10).map((row) => `  ${row.join(', ')},`).join('\n')}
] as const;

export type Mnemonic = (typeof MNEMONICS)[number];
`;
  return { tables, names };
}

function prefixClasses() {
  const classes = new Array(256).fill(0);
  for (const b of [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]) classes[b] = 1;
  classes[0x66] = 2;
  classes[0x67] = 3;
  classes[0xf0] = 4;
  classes[0xf2] = classes[0xf3] = 5;
  for (let b = 0x40; b < 0x50; b++) classes[b] = 6;
  return classes;
}

function chunk(items, n) {
  const rows = [];
  for (let i = 0; i < items.length; i += n) rows.push(items.slice(i, i + n));
  return rows;
}

export function generate() {
  return render(buildTables(parseTable()));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { tables, names } = generate();
  writeFileSync(TABLES, tables);
  writeFileSync(MNEMONICS, names);
  console.log(`x86 tables: wrote ${TABLES} and ${MNEMONICS}`);
}
