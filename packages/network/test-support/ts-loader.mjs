// A Node module loader for child processes in tests: runs isola's TypeScript sources the way vitest does
// (`@isola/<pkg>` → packages/<pkg>/src/index.ts, `./x.js` → `./x.ts`), transpiled with the workspace's
// own TypeScript. Usage: node --import ./ts-loader.mjs child.ts
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
