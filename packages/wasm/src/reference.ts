// The plain TypeScript reference of every WASM module, one namespace per module, exported as
// `@isola/wasm/reference`: an oracle for other packages' tests and the baseline for benchmarks.
export * as byterange from './byterange/reference.js';
export * as qcow2 from './qcow2/reference.js';
