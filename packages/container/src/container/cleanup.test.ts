// A create that fails at any step leaves nothing behind: no state, cgroup, process or mount.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { createCgroup } from '../cgroups/index.js';
import { defaultSpec } from '../spec/default.js';
import { runContainer } from './run.js';

const work = mkdtempSync(join(tmpdir(), 'isola-fail-'));
const root = join(work, 'state');
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await createCgroup('/isola-fail').destroy().catch(() => {});
});

function children(): number[] {
  return readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      return readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return []; // the thread ended meanwhile
    }
  }).sort();
}

describe('failed create', () => {
  itNeeds({ root: true, files: ['/bin/busybox'] })('fails at every step of the child, and leaves nothing behind each time', async () => {
    const bundle = join(work, 'bundle');
    mkdirSync(join(bundle, 'rootfs/bin'), { recursive: true });
    copyFileSync('/bin/busybox', join(bundle, 'rootfs/bin/busybox'));
    execFileSync('chmod', ['755', join(bundle, 'rootfs/bin/busybox')]);
    symlinkSync('busybox', join(bundle, 'rootfs/bin/true'));
    const spec = defaultSpec();
    spec.process!.terminal = false;
    spec.process!.args = ['/bin/true'];
    spec.hooks = { poststop: [{ path: '/bin/true' }] };
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    const before = children();
    let failures = 0;
    for (let step = 0; ; step++) {
      const id = `fail-${step}`;
      spec.linux!.cgroupsPath = `/isola-fail/${id}`;
      let error: Error | undefined;
      try {
        await runContainer({ id, bundle, root, spec, failAtStep: step });
      } catch (e) {
        error = e as Error;
      }
      if (!error) break; // past the last step: the container ran
      failures++;
      expect(error.message).toMatch(/injected failure in place of .*: EBADF/);
      expect(existsSync(join(root, id))).toBe(false);
      expect(existsSync(`/sys/fs/cgroup/memory/isola-fail/${id}`)).toBe(false);
      expect(existsSync(`/sys/fs/cgroup/pids/isola-fail/${id}`)).toBe(false);
      expect(children()).toEqual(before);
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(bundle);
    }
    expect(failures).toBeGreaterThan(100);
  }, 120_000);
});
