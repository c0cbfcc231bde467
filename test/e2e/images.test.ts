// The image commands as users type them, against a store in a temp dir ($ISOLA_ROOT).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect } from 'vitest';
import { itNeeds } from '../support/requirements.js';
import { startRegistry } from '../../packages/image/src/registry/registry.test-support.js';

const bin = fileURLToPath(new URL('../../apps/cli/bin/isola.cjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'isola-images-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function isola(...args: string[]) {
  return isolaIn(join(work, 'root'), ...args);
}

function isolaIn(root: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ISOLA_ROOT: root }, timeout: 60_000 });
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

  // docker's `run` pulls what the store lacks (--pull missing), from Debian's docker-registry on 127.0.0.1.
  // No network for the container (--network none): this test runs in the host's namespace.
  itNeeds({ root: true, tools: ['docker-registry'], files: ['/bin/busybox'] })('run pulls a missing image, unless --pull never', async () => {
    const registry = await startRegistry();
    try {
      const source = join(work, 'push-root');
      expect(isolaIn(source, 'run', '--rm', '--network', 'none', 'busybox', 'true').status).toBe(0); // imports the embedded image
      expect(isolaIn(source, 'push', 'busybox', `${registry.domain}/pulled/box:1`).status).toBe(0);

      const never = isolaIn(join(work, 'never-root'), 'run', '--rm', '--network', 'none', '--pull', 'never', `${registry.domain}/pulled/box:1`, 'true');
      expect(never).toMatchObject({ status: 125, stderr: expect.stringMatching(/^Error: image "127\.0\.0\.1:\d+\/pulled\/box:1" not found in /) });

      const fresh = join(work, 'pull-root');
      const run = isolaIn(fresh, 'run', '--rm', '--network', 'none', `${registry.domain}/pulled/box:1`, 'echo', 'pulled and ran');
      expect(run).toMatchObject({ status: 0, stdout: 'pulled and ran\n' });
      expect(run.stderr).toContain(`Unable to find image '${registry.domain}/pulled/box:1' locally`);
      expect(isolaIn(fresh, 'images').stdout).toContain(`${registry.domain}/pulled/box`);
      // Present now: no second pull.
      expect(isolaIn(fresh, 'run', '--rm', '--network', 'none', `${registry.domain}/pulled/box:1`, 'true')).toMatchObject({ status: 0, stderr: '' });
      expect(isolaIn(fresh, 'run', '--pull', 'sometimes', 'busybox', 'true')).toMatchObject({ status: 125, stderr: 'Error: invalid --pull "sometimes": use missing, always or never\n' });
    } finally {
      await registry.stop();
    }
  });
});
