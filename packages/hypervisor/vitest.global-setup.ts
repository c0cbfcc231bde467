// Tests run src/ through vitest, but each vCPU runs in a worker_thread that loads dist/vcpu/worker.js:
// rebuild dist/ first when any source is newer than it, so the two never disagree.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const here = import.meta.dirname;

function newest(dir: string, filter: (name: string) => boolean): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(path, filter));
    else if (filter(entry.name)) latest = Math.max(latest, statSync(path).mtimeMs);
  }
  return latest;
}

export default function setup(): void {
  const sources = newest(join(here, 'src'), (name) => name.endsWith('.ts') && !name.endsWith('.test.ts'));
  let built = 0;
  try {
    built = newest(join(here, 'dist'), (name) => name.endsWith('.js'));
  } catch {
    // no dist yet
  }
  if (built >= sources) return;
  execFileSync(process.execPath, [join(here, '../../node_modules/typescript/bin/tsc'), '-p', join(here, 'tsconfig.json')], { stdio: 'inherit' });
}
