// Compiles every assembly/<name>.ts into build/<name>.wasm, which src/loader.ts loads as module <name>.
// Code shared between modules lives in assembly/shared/ and is imported, not compiled on its own.
// Every module gets the same flags: the stub runtime because facades own the memory layout and modules
// never allocate, no assertions because facades validate input, abort() as a trap so a module imports
// nothing, SIMD because the hot loops use v128.
//
// `node scripts/build-wasm.mjs` builds all modules; `--stale` only those older than their source
// (scripts/vitest-global-setup.mjs uses it so tests never run against a stale .wasm).
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const assemblyDir = join(packageDir, 'assembly');
const buildDir = join(packageDir, 'build');
const FLAGS = ['-O3', '--runtime', 'stub', '--noAssert', '--use', 'abort=', '--enable', 'simd'];

function moduleNames() {
  return readdirSync(assemblyDir)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.slice(0, -'.ts'.length));
}

/** A module is stale when its .wasm is missing or older than any source it may import. */
function isStale(name) {
  const built = statSync(join(buildDir, `${name}.wasm`), { throwIfNoEntry: false });
  if (!built) return true;
  // A module is its entry file plus its own folder (assembly/x86/) and the shared one.
  const dirs = [join(assemblyDir, 'shared'), join(assemblyDir, name)].filter((dir) => existsSync(dir));
  const sources = [join(assemblyDir, `${name}.ts`), ...dirs.flatMap((dir) => readdirSync(dir).map((file) => join(dir, file)))];
  return sources.some((source) => statSync(source).mtimeMs > built.mtimeMs);
}

/** `modules`: build only these (another package's tests need one module, not every module's build). */
export async function buildWasm({ onlyStale = false, modules = undefined } = {}) {
  mkdirSync(buildDir, { recursive: true });
  const names = (modules ?? moduleNames()).filter((name) => !onlyStale || isStale(name));
  if (names.length === 0) return names;
  // Loaded only when there is work: the compiler (with Binaryen) takes about a second to import.
  const { default: asc } = await import('assemblyscript/asc');
  for (const name of names) {
    const args = [join(assemblyDir, `${name}.ts`), '-o', join(buildDir, `${name}.wasm`), ...FLAGS];
    // Diagnostics go straight to the terminal; the thrown error only says which module failed.
    const { error } = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
    if (error) throw new Error(`asc ${name}: ${error.message}`, { cause: error });
  }
  return names;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const names = await buildWasm({ onlyStale: process.argv.includes('--stale') });
  console.log(names.length ? `wasm: built ${names.join(', ')}` : 'wasm: up to date');
}
