// Test-only: runs a script against this package's sources in a separate Node process, the way a
// second isola process would use the store. The sources are transpiled with TypeScript into a
// directory inside the package (so `@isola/*` imports resolve through the workspace's node_modules).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';

const execFileAsync = promisify(execFile);
const SRC = dirname(fileURLToPath(import.meta.url));

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sources(path)));
    else if (entry.name.endsWith('.ts') && !entry.name.includes('.test')) out.push(path);
  }
  return out;
}

/** Transpiles src/ once; returns the directory holding index.js, and a cleanup. */
export async function compiledPackage(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(SRC, '..', '.child-build-'));
  for (const file of await sources(SRC)) {
    const { outputText } = ts.transpileModule(await readFile(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
      fileName: file,
    });
    const out = join(dir, relative(SRC, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, outputText);
  }
  await writeFile(join(dir, 'package.json'), '{"type":"module"}');
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs an ES module body with `pkg` bound to the compiled package's exports; resolves with stdout. */
export async function runChild(compiled: string, body: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const script = join(compiled, `child-${process.pid}-${Math.random().toString(36).slice(2)}.mjs`);
  await writeFile(script, `import * as pkg from './index.js';\n${body}\n`);
  try {
    const { stdout } = await execFileAsync(process.execPath, [script], { env: { ...process.env, ...env }, maxBuffer: 1 << 24 });
    return stdout;
  } finally {
    await rm(script, { force: true });
  }
}
