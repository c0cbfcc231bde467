import { gunzipSync } from 'node:zlib';
import { extract, type Header } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { buildLayer, sha256 } from './layer.js';
import { planRootfs } from './rootfs.js';

async function untar(tar: Buffer): Promise<{ header: Header; content: Buffer }[]> {
  const entries: { header: Header; content: Buffer }[] = [];
  const reader = extract();
  reader.end(tar);
  for await (const entry of reader) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    entries.push({ header: entry.header, content: Buffer.concat(chunks) });
  }
  return entries;
}

const binary = Buffer.from('pretend this is busybox');
const plan = planRootfs(['bin/sh', 'usr/bin/env'], binary);

describe('buildLayer', () => {
  it('names the blob by the gzip and the diff_id by the tar inside it', async () => {
    const layer = await buildLayer(plan);
    expect(layer.digest).toBe(sha256(layer.blob));
    expect(layer.diffId).toBe(sha256(gunzipSync(layer.blob)));
    expect(layer.diffId).not.toBe(layer.digest);
  });

  it('writes every planned entry in order, owned by root, with the fixed mtime', async () => {
    const entries = await untar(gunzipSync((await buildLayer(plan)).blob));
    expect(entries.map((e) => e.header.name)).toEqual(plan.map((e) => (e.type === 'directory' ? `${e.path}/` : e.path)));
    for (const { header } of entries) {
      expect(header).toMatchObject({ uid: 0, gid: 0, mtime: new Date(0) });
    }
    const byName = new Map(entries.map((e) => [e.header.name, e]));
    expect(byName.get('bin/busybox')?.header).toMatchObject({ type: 'file', mode: 0o755 });
    expect(byName.get('bin/busybox')?.content).toEqual(binary);
    expect(byName.get('bin/sh')?.header).toMatchObject({ type: 'link', linkname: 'bin/busybox', size: 0 });
    expect(byName.get('tmp/')?.header).toMatchObject({ type: 'directory', mode: 0o1777 });
  });

  it('gives the same bytes for the same plan', async () => {
    const [a, b] = await Promise.all([buildLayer(plan), buildLayer(planRootfs(['usr/bin/env', 'bin/sh'], binary))]);
    expect(a.blob.equals(b.blob)).toBe(true);
  });
});
