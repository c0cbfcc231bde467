// Benchmarks @isola/wasm's x86 decoder against iced-x86 (npm, Rust compiled to WebAssembly) over the
// .text of the Debian kernel (bench/x86/prepare.mjs caches it): a linear sweep decoding every operand.
// iced runs its fastest public path, Decoder.decodeOut into one reused Instruction; ours runs
// decodeBatches, one WASM call per 32 KiB chunk, records read in place. Both count instructions,
// and the counts must match objdump's sweep closely (they differ only where a sweep resynchronises).
//
// Run after `npm run build` (it imports the built package): node bench/x86/decode.mjs [reps]
// Repetitions alternate between the two so background load hits both alike; medians, and the ratio of
// the medians and the median of each round's ratio (the steadier of the two when load comes and goes).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { decodeBatches } from '@isola/wasm';
import { prepareCorpus } from './prepare.mjs';

const require = createRequire(import.meta.url);
const { Decoder, DecoderOptions, Instruction } = require('iced-x86');

const REPS = Number(process.argv[2] ?? 7);
const paths = await prepareCorpus({ log: (message) => console.error(message) });
const text = new Uint8Array(readFileSync(paths.text));

function ours() {
  let count = 0;
  let bytes = 0;
  for (const batch of decodeBatches(text, { bitness: 64, ip: 0xffffffff81000000n })) {
    count += batch.count;
    for (let i = 0; i < batch.count; i++) bytes += batch.length(i);
  }
  return { count, bytes };
}

function iced() {
  const decoder = new Decoder(64, text, DecoderOptions.None);
  decoder.ip = 0xffffffff81000000n;
  const instr = new Instruction();
  let count = 0;
  let bytes = 0;
  while (decoder.canDecode) {
    decoder.decodeOut(instr);
    bytes += instr.length;
    count++;
  }
  instr.free();
  decoder.free();
  return { count, bytes };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

const runs = { '@isola/wasm decodeBatches': ours, 'iced-x86 decodeOut': iced };
const times = Object.fromEntries(Object.keys(runs).map((name) => [name, []]));
const results = {};
for (let rep = 0; rep <= REPS; rep++) {
  for (const [name, run] of Object.entries(runs)) {
    const start = process.hrtime.bigint();
    results[name] = run();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (rep > 0) times[name].push(ms); // the first round warms up both
  }
}

const MB = 1e6;
console.log(`x86 decode of vmlinux .text (${(text.length / MB).toFixed(1)} MB), median of ${REPS} interleaved runs`);
console.log(`${'decoder'.padEnd(28)} ${'instructions'.padStart(12)} ${'ms'.padStart(8)} ${'MB/s'.padStart(8)} ${'M instr/s'.padStart(10)}`);
for (const name of Object.keys(runs)) {
  const ms = median(times[name]);
  const { count, bytes } = results[name];
  console.log(`${name.padEnd(28)} ${String(count).padStart(12)} ${ms.toFixed(1).padStart(8)} ${(bytes / MB / (ms / 1000)).toFixed(1).padStart(8)} ${(count / 1e6 / (ms / 1000)).toFixed(1).padStart(10)}`);
}
const [ourTimes, icedTimes] = Object.keys(runs).map((name) => times[name]);
console.log(`ratio (iced time / ours): ${(median(icedTimes) / median(ourTimes)).toFixed(2)}x medians, ${median(icedTimes.map((t, i) => t / ourTimes[i])).toFixed(2)}x per round`);
