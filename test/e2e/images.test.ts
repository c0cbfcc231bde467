// The image commands as users type them, against a store in a temp dir ($ISOLA_ROOT).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect } from 'vitest';
import { runIsola, useWorkDir } from '../support/cli.js';
import { itNeeds } from '../support/requirements.js';
import { startRegistry } from '../../packages/image/src/registry/registry.test-support.js';

const work = useWorkDir('isola-images-');

function isola(...args: string[]) {
  return isolaIn(join(work, 'root'), ...args);
}

function isolaIn(root: string, ...args: string[]) {
  return runIsola(args, { root });
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
  itNeeds({ files: ['/bin/busybox'] })('bad archives, unwritable targets and bad names get one line and leave nothing in the store', async () => {
    const { buildBusyboxImage } = await import('@isola/busybox-image');
    const image = await buildBusyboxImage({ outDir: join(work, 'audit-layout') });
    const root = join(work, 'audit-root');
    const store = (sub: string) => readdirSync(join(root, 'image', sub)).sort();
    expect(isolaIn(root, 'load', '-i', image.path).status).toBe(0);
    const oneLine = (result: { status: number | null; stderr: string }, pattern: RegExp) => {
      expect(result.status, result.stderr).toBe(125);
      expect(result.stderr).toMatch(new RegExp(`^Error: .*${pattern.source}.*\\n$`));
    };
    oneLine(isolaIn(root, 'save', '-o', join(work, 'no', 'dir', 'out.tar'), 'busybox'), /no\/dir\/\.out\.tar\.tmp-\d+"\): ENOENT \(no such file or directory\)/);
    oneLine(isolaIn(root, 'tag', 'busybox', 'Bad Name'), /invalid image reference "Bad Name"/);
    oneLine(isolaIn(root, 'inspect', ''), /invalid image reference "": the name is empty/);
    expect(store('tmp')).toEqual([]);
    expect(store('leases')).toEqual([]);

    const archive = join(work, 'audit.tar');
    expect(isolaIn(root, 'save', '-o', archive, 'busybox').status).toBe(0);
    const bytes = readFileSync(archive);
    writeFileSync(join(work, 'cut.tar'), bytes.subarray(0, bytes.length - 1500));
    writeFileSync(join(work, 'cut.tar.gz'), gzipSync(bytes).subarray(0, 4096));
    const fresh = join(work, 'audit-fresh');
    oneLine(isolaIn(fresh, 'load', '-i', join(work, 'cut.tar')), /cut\.tar: tar truncated/);
    oneLine(isolaIn(fresh, 'load', '-i', join(work, 'cut.tar.gz')), /cut\.tar\.gz: gzip: unexpected end of file/);
    for (const sub of ['blobs/sha256', 'tmp', 'leases']) expect(readdirSync(join(fresh, 'image', sub)), sub).toEqual([]);
  });

  itNeeds({ root: true, files: ['/bin/busybox'] })('rmi refuses an image a container uses, naming the container, unless forced', async () => {
    const root = join(work, 'rmi-root');
    expect(isolaIn(root, 'run', '--rm', '--network', 'none', 'busybox', 'true').status).toBe(0); // imports the embedded image
    const id = isolaIn(root, 'create', '--network', 'none', 'busybox', 'true').stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const refused = isolaIn(root, 'rmi', 'busybox');
    expect(refused.status).toBe(125);
    expect(refused.stderr).toBe(`Error: unable to remove image "busybox": container ${id.slice(0, 12)} uses it (remove the container first, or use --force)\n`);
    expect(isolaIn(root, 'images').stdout).toContain('busybox');
    expect(isolaIn(root, 'rmi', '-f', 'busybox').status).toBe(0);
    expect(isolaIn(root, 'images').stdout).not.toContain('busybox');
    expect(isolaIn(root, 'rm', id).status).toBe(0);
  });
});
