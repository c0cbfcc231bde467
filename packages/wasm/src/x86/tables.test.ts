import { readFileSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a build script without type declarations
import { generate } from '../../scripts/x86-tables.mjs';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));

describe('x86 tables', () => {
  it('are what scripts/x86-tables.mjs generates from opcodes.txt (run it after editing the table)', () => {
    const { tables, names } = generate() as { tables: string; names: string };
    expect(readFileSync(`${packageDir}assembly/x86/tables.ts`, 'utf8')).toBe(tables);
    expect(readFileSync(`${packageDir}src/x86/mnemonics.ts`, 'utf8')).toBe(names);
  });

  // scripts/build-wasm.mjs --stale (the test setup) compares build/x86.wasm with assembly/x86.ts only,
  // not with assembly/x86/: without this check, a test could pass against a stale decoder.
  it('are compiled into build/x86.wasm (run node scripts/build-wasm.mjs after editing assembly/x86/)', () => {
    const built = statSync(`${packageDir}build/x86.wasm`).mtimeMs;
    const sources = readdirSync(`${packageDir}assembly/x86`).map((f) => `assembly/x86/${f}`);
    expect(sources.filter((f) => statSync(`${packageDir}${f}`).mtimeMs > built)).toEqual([]);
  });
});
