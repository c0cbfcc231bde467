// The cluster mapper runs in @isola/wasm's build/qcow2.wasm, which vitest loads from that package even
// though it runs this package's TypeScript: rebuild that module when stale, as the wasm package's own
// tests do, so qcow2 tests never run against a missing or outdated .wasm (and never wait on, or fail
// with, the other modules' builds).
// @ts-expect-error: a plain .mjs script without declarations
import { buildWasm } from '../wasm/scripts/build-wasm.mjs';

export default async function setup(): Promise<void> {
  await buildWasm({ onlyStale: true, modules: ['qcow2'] });
}
