// A network namespace that plays the host for a test file: isola runs inside it (through nsenter), so
// the default bridge, its veths, routes and nft rules are made there and vanish with it, and the real
// host's network is never touched. `useTestNetns()` registers its own beforeAll/afterAll; call it
// before the file's own hooks so that its afterAll runs last (vitest runs after-hooks as a stack).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';

export interface TestNetns {
  name: string;
  /** /run/netns/NAME */
  path: string;
  /** `nsenter --net=PATH`: put before a command to run it in the namespace. */
  prefix: string[];
}

export function useTestNetns(): TestNetns {
  const name = `isola-t-${randomBytes(4).toString('hex')}`;
  const netns: TestNetns = { name, path: `/run/netns/${name}`, prefix: ['nsenter', `--net=/run/netns/${name}`] };
  beforeAll(() => {
    if (process.getuid?.() !== 0) return; // the tests that need root say so themselves
    const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
    if (add.status !== 0) throw new Error(`ip netns add ${name}: ${add.stderr.trim()}`);
    spawnSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  });
  afterAll(() => {
    if (process.getuid?.() !== 0) return;
    spawnSync('ip', ['netns', 'delete', name]);
  });
  return netns;
}
