// Fake cgroupfs trees for tests: plain directories and files in a temp dir, shaped like the kernel's.
// A fake kernel creates no interface files on mkdir, so a test lists every file its cgroup will touch.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface FakeTree {
  root: string;
  remove(): void;
}

/** `files` maps paths relative to the tree root to their contents. */
export function fakeCgroupTree(files: Record<string, string>): FakeTree {
  const root = mkdtempSync(join(tmpdir(), 'isola-cgroupfs-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}
