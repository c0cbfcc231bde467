// The launcher's side of `run -d`/`start` as the caller sees it, with stand-in launcher scripts: what
// it reports on fd 3 is passed on, and when it ends without a report its stderr says why.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Launcher, launcherFor } from './launcher.js';
import { ContainerStore } from './store.js';

const dir = mkdtempSync(join(tmpdir(), 'isola-launcher-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const store = new ContainerStore(dir);
const id = 'a'.repeat(64);

function script(name: string, source: string): string {
  const path = join(dir, name);
  writeFileSync(path, `'use strict';\nrequire('node:fs').readFileSync(0);\n${source}\n`);
  return path;
}

describe('Launcher', () => {
  it('resolves with the pid the launcher reports', async () => {
    const launcher = new Launcher({ script: script('ok.cjs', "require('node:fs').writeSync(3, JSON.stringify({ pid: 4242 }) + '\\n');") });
    await expect(launcher.launch(store, id, 'start')).resolves.toBe(4242);
  });

  it('throws the error the launcher reports, with its code', async () => {
    const launcher = new Launcher({ script: script('reports.cjs', "require('node:fs').writeSync(3, JSON.stringify({ error: { code: 'ENOENT', message: 'no such file: /x' } }) + '\\n'); process.exitCode = 1;") });
    await expect(launcher.launch(store, id, 'start')).rejects.toMatchObject({ code: 'ENOENT', message: 'no such file: /x' });
  });

  it('says why when the launcher dies before reporting: its uncaught error, from its stderr', async () => {
    const launcher = new Launcher({ script: script('throws.cjs', "throw new TypeError('cannot read the order');") });
    const error = await launcher.launch(store, id, 'start').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ELAUNCH' });
    expect((error as Error).message).toBe(`the process that creates container ${id.slice(0, 12)} ended (status 1) before reporting: TypeError: cannot read the order`);
    expect((error as { details: { stderr: string } }).details.stderr).toContain('throws.cjs');
  });

  it('names the signal that killed it', async () => {
    const launcher = new Launcher({ script: script('killed.cjs', "process.kill(process.pid, 'SIGKILL');") });
    await expect(launcher.launch(store, id, 'create')).rejects.toThrow(/^the process that creates container a{12} was killed by SIGKILL before reporting$/);
  });

  it('a cancelled launcher reads EOF and goes', async () => {
    const launcher = new Launcher({ script: script('cancelled.cjs', '') });
    launcher.cancel();
  });
});

describe('launcherFor', () => {
  it('gives none to a foreground --rm (it runs in the caller), one to everything else', () => {
    expect(launcherFor({ autoRemove: true })).toBeUndefined();
    for (const options of [{}, { autoRemove: true, detach: true }, { detach: true }, { interactive: true, tty: true }]) {
      const launcher = launcherFor(options);
      expect(launcher).toBeInstanceOf(Launcher);
      launcher!.cancel();
    }
  });
});
