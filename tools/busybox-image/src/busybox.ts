// The host's busybox, read once: its bytes (what goes into the layer), their digest (what decides
// whether the cached image is stale), and what running it says about itself (applets, version).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { IsolaError } from '@isola/errors';
import { inspectElf } from './elf.js';
import { sha256 } from './layer.js';

export const DEFAULT_BUSYBOX = '/bin/busybox';

const INSTALL = '`apt-get install busybox-static`';

const execFileAsync = promisify(execFile);

export interface HostBusybox {
  path: string;
  bytes: Buffer;
  /** `sha256:<hex>` of `bytes`. */
  digest: string;
  architecture: string;
}

export async function readBusybox(path: string): Promise<HostBusybox> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    // No cause: "not found" is the whole story, and the CLI prints the chain on one line.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new IsolaError('EBUSYBOX_MISSING', `${path} not found: install it with ${INSTALL}`, { details: { path } });
    }
    throw new IsolaError('EBUSYBOX_READ', `read ${path}`, { cause: error, details: { path } });
  }
  const elf = inspectElf(bytes, path);
  if (!elf.isStatic) {
    throw new IsolaError('EBUSYBOX_DYNAMIC', `${path} is dynamically linked and cannot run alone in an image: replace it with ${INSTALL}`, {
      details: { path },
    });
  }
  return { path, bytes, digest: sha256(bytes), architecture: elf.architecture };
}

async function run(path: string, arg: string): Promise<string> {
  try {
    return (await execFileAsync(path, [arg], { env: { LC_ALL: 'C' } })).stdout;
  } catch (error) {
    throw new IsolaError('EBUSYBOX_EXEC', `run ${path} ${arg}`, { cause: error, details: { path } });
  }
}

/** The applet paths relative to /, e.g. `bin/sh`, `usr/bin/env` (`busybox --list-full`). */
export async function listApplets(path: string): Promise<string[]> {
  return (await run(path, '--list-full')).split('\n').filter((line) => line !== '');
}

/** `BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1)`: the first line of `busybox --help`, without its tail. */
export async function busyboxVersion(path: string): Promise<string> {
  const first = (await run(path, '--help')).split('\n')[0];
  if (!first.startsWith('BusyBox v')) {
    throw new IsolaError('EBUSYBOX_VERSION', `${path} --help does not start with "BusyBox v": ${JSON.stringify(first)}`, { details: { path } });
  }
  return first.replace(/ multi-call binary\.$/, '');
}
