// Instruction counts for the x86 decoder, for comparing changes on a noisy machine where timings are
// not to be trusted: decodes the first MB of the kernel .text REPS times straight through the built
// module (build/x86.wasm, no facade), so that `valgrind --tool=callgrind` totals can be compared.
// Run it twice, with REPS and with 0, and divide the difference by the instructions decoded:
//
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node --single-threaded --no-liftoff \
//     --no-wasm-tier-up bench/x86/count.mjs 20      (and again with 0)
//
// It prints the number of x86 instructions decoded per repetition. X86_WASM=path measures another build.
import { readFileSync } from 'node:fs';
import { prepareCorpus } from './prepare.mjs';

const REPS = Number(process.argv[2] ?? 20);
const BYTES = 1 << 20;
const paths = await prepareCorpus();
let text = new Uint8Array(readFileSync(paths.text)).subarray(0, BYTES);
// X86_PATTERN="48 89 c8" repeats one encoding instead, to see what one form costs.
if (process.env.X86_PATTERN) {
  const unit = process.env.X86_PATTERN.split(' ').map((x) => parseInt(x, 16));
  text = Uint8Array.from({ length: BYTES - (BYTES % unit.length) }, (_, i) => unit[i % unit.length]);
}
const bytes = readFileSync(process.env.X86_WASM ?? new URL('../../packages/wasm/build/x86.wasm', import.meta.url));
const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
const base = (exports.heapBase() + 15) & ~15;
const out = base + BYTES + exports.padding();
const records = BYTES; // at most one record per byte
const need = out + records * exports.recordSize();
exports.memory.grow(Math.ceil(Math.max(0, need - exports.memory.buffer.byteLength) / 65536));
new Uint8Array(exports.memory.buffer).set(text, base);
let count = 0;
for (let rep = 0; rep < REPS; rep++) count = exports.decode(base, text.length, 64, 0xffffffff81000000n, out, records, 1);
console.log(`${count} instructions per repetition, ${REPS} repetitions`);
