// The small static programs isola ships as hex (the container monitor, the --init), written under
// `<root>/libexec/` once per version: named by their hash, so a running copy is never overwritten.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function installExecutable(root: string, name: string, hex: string): string {
  const bytes = Buffer.from(hex, 'hex');
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
  const dir = join(root, 'libexec');
  const path = join(dir, `${name}-${hash}`);
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes, { mode: 0o755 });
  chmodSync(tmp, 0o755);
  renameSync(tmp, path);
  return path;
}
