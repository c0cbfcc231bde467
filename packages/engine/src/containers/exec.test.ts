// exec against real containers: the process joins the container (its pid namespace, user, env), its
// exit status comes back, and the errors name the container.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IsolaError } from '@isola/errors';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopContainers } from '../api.js';
import { runImage } from '../run.js';
import { openStores } from './create.js';
import { execInContainerRef, execProcess, mergeEnv } from './exec.js';

const root = mkdtempSync(join(tmpdir(), 'isola-exec-test-'));
const canRun = process.getuid?.() === 0 && existsSync('/bin/busybox');
let target: { done: Promise<number | string> } | undefined;
afterAll(async () => {
  // Whatever failed, the container goes (it is removed by its own --rm run once stopped).
  if (target) {
    await stopContainers(['exec-target'], { root, timeout: 0 }).catch(() => {});
    await target.done.catch(() => {});
  }
  rmSync(root, { recursive: true, force: true });
});

describe('exec options', () => {
  it('merges -e over the container environment, passing a bare name through', () => {
    process.env.ISOLA_EXEC_TEST = 'from-host';
    expect(mergeEnv(['PATH=/bin', 'A=1'], ['A=2', 'B=3', 'ISOLA_EXEC_TEST'])).toEqual(['PATH=/bin', 'A=2', 'B=3', 'ISOLA_EXEC_TEST=from-host']);
    expect(() => mergeEnv([], ['=x'])).toThrow(/has no name/);
  });

  it("keeps the init's security profile and replaces command, cwd and user", () => {
    const init = { user: { uid: 0, gid: 0, additionalGids: [10] }, cwd: '/', args: ['sleep', '1'], env: ['PATH=/bin'], noNewPrivileges: true, capabilities: { bounding: ['CAP_CHOWN'] } };
    const p = execProcess(init, { command: ['id'], workdir: '/tmp', user: '1000:50', tty: true });
    expect(p).toMatchObject({ args: ['id'], cwd: '/tmp', user: { uid: 1000, gid: 50, additionalGids: [] }, terminal: true, noNewPrivileges: true, capabilities: { bounding: ['CAP_CHOWN'] } });
    expect(() => execProcess(init, { command: ['id'], user: 'root' })).toThrow(/only numeric/);
  });
});

/** A foreground `run --rm` in this process (the path that needs no monitor, so no build). */
async function runInBackground(name: string, command: string[], env: string[] = []): Promise<{ done: Promise<number | string> }> {
  const done = runImage({ image: 'busybox', name, command, env, autoRemove: true, root });
  const { containers } = await openStores(root);
  for (let i = 0; i < 500 && containers.state(containers.nameOwner(name) ?? '')?.status !== 'running'; i++) await sleep(10);
  return { done };
}

describe.runIf(canRun)('exec in a running container', () => {
  it('runs in the container with its env, user and exit status', async () => {
    target = await runInBackground('exec-target', ['sleep', '100'], ['FROM_RUN=yes']);
    // PID 1 of the pid namespace is the container's sleep: the exec'd shell sees it.
    expect(await execInContainerRef('exec-target', { command: ['sh', '-c', 'test "$(cat /proc/1/comm)" = sleep && test "$FROM_RUN" = yes && test "$X" = 1'], env: ['X=1'], root })).toBe(0);
    expect(await execInContainerRef('exec-target', { command: ['sh', '-c', 'exit 42'], root })).toBe(42);
    expect(await execInContainerRef('exec-target', { command: ['sh', '-c', 'test "$(id -u):$(id -g) $(pwd)" = "1000:1000 /tmp"'], user: '1000', workdir: '/tmp', root })).toBe(0);
    // No capability beyond the container's: CAP_SYS_ADMIN is not among Docker's 14.
    expect(await execInContainerRef('exec-target', { command: ['sh', '-c', 'grep -q "^NoNewPrivs:.1" /proc/self/status && grep -q "^Seccomp:.2" /proc/self/status && ! mount -t tmpfs none /mnt 2>/dev/null'], root })).toBe(0);
    expect(await execInContainerRef('exec-target', { command: ['true'], detach: true, root })).toBe(0);
  });

  // A stopped container is refused too (test/e2e/exec.test.ts: it needs the monitor, so the build).
  it('refuses an unknown container, a missing program and no command, by name', async () => {
    await expect(execInContainerRef('no-such', { command: ['true'], root })).rejects.toThrow('no such container: no-such');
    await expect(execInContainerRef('exec-target', { command: [], root })).rejects.toThrow(IsolaError);
    await expect(execInContainerRef('exec-target', { command: ['/no/such'], root })).rejects.toThrow(/executable file not found/);
    await stopContainers(['exec-target'], { root, timeout: 1 });
    expect(await target!.done).toBe(137);
  });
});
