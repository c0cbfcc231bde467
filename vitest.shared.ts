// Settings every vitest project shares: tests import sibling packages from their TypeScript sources,
// so `npm test` exercises the code as written, not a stale dist/.
import { readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { UserWorkspaceConfig } from 'vitest/config';

const root = resolve(import.meta.dirname);

function sourceAliases(): Record<string, string> {
  const aliases: Record<string, string> = {};
  for (const group of ['packages', 'apps']) {
    for (const dir of readdirSync(join(root, group))) {
      const entry = join(root, group, dir, 'src', 'index.ts');
      if (existsSync(entry)) aliases[`@isola/${dir}`] = entry;
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
