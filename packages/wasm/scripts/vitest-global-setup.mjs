// vitest runs this package's TypeScript sources but loads the compiled build/<name>.wasm: rebuild any
// module whose AssemblyScript changed since, so a test never passes or fails against stale WASM.
import { buildWasm } from './build-wasm.mjs';

export default async function setup() {
  await buildWasm({ onlyStale: true });
}
