// Settings every vitest project shares: tests import sibling packages from their TypeScript sources,
// so `npm test` exercises the code as written, not a stale dist/.
import { readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { UserWorkspaceConfig } from 'vitest/config';

const root = resolve(import.meta.dirname);

/** `@isola/<pkg>` → its src/index.ts, and `@isola/<pkg>/testing|proc` → src/testing.ts, src/proc.ts where there is one. */
function sourceAliases(): Array<{ find: RegExp; replacement: string }> {
  const aliases: Array<{ find: RegExp; replacement: string }> = [];
  for (const group of ['packages', 'apps']) {
    for (const dir of readdirSync(join(root, group))) {
      const entry = join(root, group, dir, 'src', 'index.ts');
      for (const subpath of ['testing', 'proc']) {
        const file = join(root, group, dir, 'src', `${subpath}.ts`);
        if (existsSync(file)) aliases.push({ find: new RegExp(`^@isola/${dir}/${subpath}$`), replacement: file });
      }
      if (existsSync(entry)) aliases.push({ find: new RegExp(`^@isola/${dir}$`), replacement: entry });
    }
  }
  return aliases;
}

export function project(name: string, extra: UserWorkspaceConfig['test'] = {}): UserWorkspaceConfig {
  return {
    resolve: { alias: sourceAliases() },
    test: {
      name,
      include: ['src/**/*.test.ts', '**/*.test.ts'],
      exclude: ['**/node_modules/**', '**/dist/**'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      ...extra,
    },
  };
}
