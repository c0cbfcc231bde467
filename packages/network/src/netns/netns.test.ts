import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { createNetns, removeNetns, withNetns } from './netns.js';

const mounted = (path: string): boolean => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path);

describe('persistent network namespaces', () => {
  itNeeds({ root: true, tools: ['nsenter', 'ip'] })('are created at a path, entered, and removed without a trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isola-netns-'));
    try {
      const path = createNetns(join(dir, 'ns', 'one'));
      expect(mounted(path)).toBe(true);
      const here = readlinkSync('/proc/thread-self/ns/net');
      const there = withNetns(path, () => readlinkSync('/proc/thread-self/ns/net'));
      expect(there).not.toBe(here);
      expect(readlinkSync('/proc/thread-self/ns/net')).toBe(here);
      // A fresh namespace has nothing but a loopback device, which is down.
      expect(execFileSync('nsenter', [`--net=${path}`, 'ip', '-br', 'link'], { encoding: 'utf8' })).toMatch(/^lo\s+DOWN/);

      expect(() => createNetns(path)).toThrow(`network namespace ${JSON.stringify(path)}: already exists`);
      expect(mounted(path)).toBe(true);

      removeNetns(path);
      expect(existsSync(path)).toBe(false);
      expect(mounted(path)).toBe(false);
      removeNetns(path); // removing twice is not an error

      writeFileSync(join(dir, 'plain'), '');
      expect(() => withNetns(join(dir, 'plain'), () => 1)).toThrow(/setns\(".*plain", CLONE_NEWNET\): EINVAL/);
      expect(() => withNetns(join(dir, 'missing'), () => 1)).toThrow(/network namespace ".*missing" does not exist/);
      expect(readlinkSync('/proc/thread-self/ns/net')).toBe(here);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
