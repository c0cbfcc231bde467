// The hooks behind ts-loader.mjs (they run on the loader thread).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const workspace = resolvePath(dirname(fileURLToPath(import.meta.url)), '../../..');

export async function resolve(specifier, context, next) {
  const pkg = /^@isola\/([a-z0-9-]+)$/.exec(specifier);
  if (pkg) {
    const entry = join(workspace, 'packages', pkg[1], 'src', 'index.ts');
    if (existsSync(entry)) return { url: pathToFileURL(entry).href, shortCircuit: true };
  }
  if (specifier.endsWith('.js') && context.parentURL?.endsWith('.ts') && (specifier.startsWith('.') || specifier.startsWith('/'))) {
    const candidate = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (existsSync(fileURLToPath(candidate))) return { url: candidate.href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const source = readFileSync(fileURLToPath(url), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    fileName: fileURLToPath(url),
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false, sourceMap: false },
  });
  return { format: 'module', source: outputText, shortCircuit: true };
}
