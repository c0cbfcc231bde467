#!/usr/bin/env node
// `node unpack-image.mjs LAYOUT:TAG ROOTFS`: every layer of an image in an OCI layout applied to one
// new rootfs with @isola/image, in a process of its own: the counterpart of `umoci raw unpack`
// (same input, same output, Node's start and module loading included) for run.mjs.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unpackLayers } from '@isola/image/unpack';

const [image, rootfs] = process.argv.slice(2);
const colon = image.lastIndexOf(':');
const [layout, tag] = [image.slice(0, colon), image.slice(colon + 1)];
const blob = (digest) => join(layout, 'blobs', ...digest.split(':'));
const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
if (entry === undefined) throw new Error(`${layout}: no manifest tagged ${tag}`);
const manifest = JSON.parse(await readFile(blob(entry.digest), 'utf8'));
const config = JSON.parse(await readFile(blob(manifest.config.digest), 'utf8'));
const layers = manifest.layers.map((layer, i) => ({ source: blob(layer.digest), options: { mediaType: layer.mediaType, expectedDigest: layer.digest, expectedDiffId: config.rootfs.diff_ids[i] } }));
await unpackLayers(layers, rootfs, { rootless: false });
