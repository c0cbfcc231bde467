// The --init binary's bytes (960-byte static ELF assembled from init.S), where it is put on disk,
// and what it changes in a container's spec: docker's layout, the init bind-mounted read-only at
// /dev/init and the command after it. See init.S for what it does.
// Regenerate: as --64 -o i.o init.S && objcopy -O binary -j .text i.o i.bin && xxd -p i.bin
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { secureJoin } from '@isola/container';
import { installExecutable } from '../libexec.js';

export const INIT_HEX =
  '7f454c4602010100000000000000000002003e0001000000e800400000000000400000000000000000000000000000000000' +
  '00004000380003000000000000000100000005000000000000000000000000004000000000000000400000000000c0030000' +
  '00000000c0030000000000000010000000000000010000000600000000000000000000000000410000000000000041000000' +
  '00000000000000000000a010000000000000001000000000000051e574640600000000000000000000000000000000000000' +
  '00000000000000000000000000000000000000000000000010000000000000004c8b24244c8d6c24084e8d74e410bb010000' +
  '004983fc020f8218020000498b750866813e2d2d7508807e02007502ffc34939dc0f86fc010000498b6cdd0048c704250000' +
  '4100ffffffffb80e000000bf02000000be0000410031d241ba080000000f05b8390000000f054885c00f8869010000747949' +
  '89c7b880000000bf00004100be2000410031d241ba080000000f0585c078e383f811740e89c6b83e0000004c89ff0f05ebd0' +
  'b83d000000bfffffffffbe10004100ba010000004531d20f054885c07eb24c39f875dd8b04251000410089c783e77f740881' +
  'c780000000eb06c1e8080fb6f8b8e70000000f05b80e000000bf02000000be0800410031d241ba080000000f054d8d6cdd00' +
  '4889ef0fb60785c0740e83f82f0f84ad00000048ffc7ebeb4829ef4989f8488d1d260100004c89f1488b314885f674164883' +
  'c108813e5041544875ec807e043d75e6488d5e05bfa00041004889de0fb60685c0741783f83a741281ff9e10410073478807' +
  '48ffc748ffc6ebe24889f381ffa00041007506c6072e48ffc74a8d04073d9e1041007321c6072f48ffc74889ee498d4801f3' +
  'a4b83b000000bfa00041004c89ee4c89f20f054889de0fb60648ffc685c0741a83f83a75f14889f3eb86b83b0000004889ef' +
  '4c89ee4c89f20f05b801000000bf02000000488d35a7000000ba1b0000000f054889ee4889ea803a00740548ffc2ebf64829' +
  'eab801000000bf020000000f05b801000000bf02000000488d358b000000ba010000000f05bf7f000000e9b2feffffb80100' +
  '0000bf02000000488d356a000000ba280000000f05bf02000000e990feffff2f7573722f6c6f63616c2f7362696e3a2f7573' +
  '722f6c6f63616c2f62696e3a2f7573722f7362696e3a2f7573722f62696e3a2f7362696e3a2f62696e0069736f6c612d696e' +
  '69743a2063616e6e6f742065786563757465200a75736167653a2069736f6c612d696e6974205b2d2d5d20434f4d4d414e44' +
  '205b4152472e2e2e5d0a';

/** Where the container sees it, as with docker's tini. */
export const INIT_PATH = '/dev/init';

/** Writes the init under `<root>/libexec/` once per version (named by its hash) and returns its path. */
export function installInit(root: string): string {
  return installExecutable(root, 'isola-init', INIT_HEX);
}

/** The parts of an OCI spec --init changes. */
interface InitSpec {
  process?: { args?: string[] };
  mounts?: Array<{ destination: string; type?: string; source?: string; options?: string[] }>;
}

/**
 * Makes `spec` start the command under the init. The runtime looks the program up in the rootfs before
 * the container's own /dev exists, so an empty executable stands at rootfs/dev/init, hidden at run time
 * by the /dev tmpfs and the bind mount over it.
 */
export function applyInit(spec: InitSpec, options: { root: string; rootfs: string }): void {
  const source = installInit(options.root);
  spec.process!.args = [INIT_PATH, '--', ...(spec.process!.args ?? [])];
  spec.mounts = [...(spec.mounts ?? []), { destination: INIT_PATH, type: 'bind', source, options: ['bind', 'ro', 'nosuid', 'nodev'] }];
  // Resolved within the rootfs: an image whose /dev is a symlink must not make this write on the host.
  const dev = secureJoin(options.rootfs, '/dev');
  const placeholder = secureJoin(options.rootfs, INIT_PATH);
  if (!existsSync(placeholder)) {
    mkdirSync(dev, { recursive: true, mode: 0o755 });
    writeFileSync(placeholder, '', { mode: 0o755, flag: 'wx' });
  }
}
