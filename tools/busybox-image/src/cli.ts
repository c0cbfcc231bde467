#!/usr/bin/env node
// isola-build-busybox-image [--force] [--busybox PATH] [--out DIR]: builds (or reuses) the default
// image and prints where it is. Failures print one line, no stack: they are meant for a person.
import { parseArgs } from 'node:util';
import { describeError } from '@isola/errors';
import { buildBusyboxImage } from './build.js';

try {
  const { values } = parseArgs({
    options: { force: { type: 'boolean' }, busybox: { type: 'string' }, out: { type: 'string' } },
  });
  const image = await buildBusyboxImage({ force: values.force, busybox: values.busybox, outDir: values.out });
  console.log(`busybox image: ${image.path} (${image.manifestDigest})${image.rebuilt ? '' : ', up to date'}`);
} catch (error) {
  console.error(describeError(error));
  process.exitCode = 1;
}
