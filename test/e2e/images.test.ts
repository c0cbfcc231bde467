// The image commands as users type them, against a store in a temp dir ($ISOLA_ROOT).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect } from 'vitest';
import { itNeeds } from '../support/requirements.js';

const bin = fileURLToPath(new URL('../../apps/cli/bin/isola.cjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'isola-images-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function isola(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ISOLA_ROOT: join(work, 'root') }, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('isola images', () => {
  itNeeds({ root: true, tools: ['skopeo'], files: ['/bin/busybox'] })('loads, lists, tags, inspects, saves and removes the busybox image', async () => {
    const { buildBusyboxImage } = await import('@isola/busybox-image');
    const image = await buildBusyboxImage({ outDir: join(work, 'layout') });
    expect(isola('load', '-i', image.path)).toMatchObject({ status: 0, stdout: 'Loaded image: busybox:latest\n' });
    expect(isola('images').stdout).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\nbusybox\s+latest\s+[0-9a-f]{12}\s/);
    expect(isola('tag', 'busybox', 'mybox:1').status).toBe(0);
    const listed = JSON.parse(isola('images', '--format', 'json').stdout);
    expect(listed.map((i: { Names?: string[]; Repository?: string; Tag?: string }) => JSON.stringify(i))).toEqual(expect.arrayContaining([expect.stringContaining('mybox')]));
    const [inspected] = JSON.parse(isola('inspect', 'mybox:1').stdout);
    expect(inspected.Digest).toBe(image.manifestDigest);
    const archive = join(work, 'saved.tar');
    expect(isola('save', '-o', archive, 'mybox:1').status).toBe(0);
    expect(existsSync(archive)).toBe(true);
    expect(spawnSync('skopeo', ['inspect', `oci-archive:${archive}`]).status).toBe(0);
    expect(isola('rmi', 'mybox:1').status).toBe(0);
    const missing = isola('rmi', 'mybox:1');
    expect(missing.status).toBe(125);
    expect(missing.stderr).toMatch(/^Error: image "mybox:1" not found in .*\n$/);
  });
});
