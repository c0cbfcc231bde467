// Loads the modules scripts/build-wasm.mjs compiles from assembly/<name>.ts to build/<name>.wasm.
// Only facades (src/<module>/index.ts) call this; their callers never see memory or pointers.
// Instantiation is synchronous so facades stay plain functions: the modules are a few KiB.
// One instance per module per thread, created on first use and kept.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IsolaError } from '@isola/errors';

const PAGE = 65_536;

export interface WasmModule<Exports> {
  readonly exports: Exports;
  /** First free byte above the module's static data, 16-aligned: facades lay out their buffers from here. */
  readonly heapBase: number;
  /**
   * Makes [heapBase, heapBase + bytes) addressable, growing memory if needed (it never shrinks), and
   * returns a view of all of memory. A grow detaches older views, so take a fresh one after each call.
   */
  reserve(bytes: number): Uint8Array;
}

/** What every module built by scripts/build-wasm.mjs exports besides its own functions. */
interface BaseExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
}

const loaded = new Map<string, WasmModule<unknown>>();

export function loadWasm<Exports>(name: string): WasmModule<Exports> {
  let module = loaded.get(name);
  if (!module) {
    module = instantiate(name);
    loaded.set(name, module);
  }
  return module as WasmModule<Exports>;
}

function instantiate(name: string): WasmModule<unknown> {
  // src/ (vitest runs the sources) and dist/ sit at the same depth, so one relative URL serves both.
  const path = fileURLToPath(new URL(`../build/${name}.wasm`, import.meta.url));
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    throw new IsolaError('EWASM_MISSING', `wasm module "${name}": ${path} is missing (run npm run build)`, {
      cause,
      details: { module: name, path },
    });
  }
  let exports: BaseExports;
  try {
    // Modules import nothing: the build maps AssemblyScript's abort() to a trap (--use abort=).
    exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as BaseExports;
  } catch (cause) {
    throw new IsolaError('EWASM_LOAD', `wasm module "${name}": cannot instantiate ${path} (rebuild with npm run build)`, {
      cause,
      details: { module: name, path },
    });
  }
  const memory = exports.memory;
  const heapBase = align16(exports.heapBase());
  return {
    exports,
    heapBase,
    reserve(size: number): Uint8Array {
      const missing = heapBase + size - memory.buffer.byteLength;
      if (missing > 0) {
        try {
          memory.grow(Math.ceil(missing / PAGE));
        } catch (cause) {
          throw new IsolaError('EWASM_MEMORY', `wasm module "${name}": cannot grow memory to ${heapBase + size} bytes`, {
            cause,
            details: { module: name, bytes: heapBase + size },
          });
        }
      }
      return new Uint8Array(memory.buffer);
    },
  };
}

function align16(n: number): number {
  return (n + 15) & ~15;
}
