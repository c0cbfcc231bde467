#!/usr/bin/env node
// The isola command. `--version` is answered before anything else loads: oclif alone costs ~100 ms.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v' || args[0] === 'version')) {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`isola ${version}\n`);
} else {
  const { run } = await import('../dist/main.js');
  await run(args, import.meta.url);
}
