// Builds the x86 decoder's corpus: the .text of the Debian kernel's vmlinux (from /boot/vmlinuz-*, which
// linux-image-amd64 installs) and GNU objdump's instruction boundaries over it, the length oracle.
// Everything goes to a cache dir (ISOLA_CACHE_DIR or ~/.cache/isola, then x86/), never into git: the
// .text is ~15 MiB and objdump takes about a minute over it, so both are made once and reused.
//
// `node bench/x86/prepare.mjs` prints the paths; tests and bench/x86/decode.mjs import prepareCorpus().
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

export function cacheDir() {
  return join(process.env.ISOLA_CACHE_DIR ?? join(homedir(), '.cache', 'isola'), 'x86');
}

/**
 * The newest Debian kernel image: the one tools/setup.sh unpacks into the cache (kernel/boot/), else an
 * installed /boot/vmlinuz-*; undefined when there is neither.
 */
export function findVmlinuz() {
  for (const boot of [join(cacheDir(), '..', 'kernel', 'boot'), '/boot']) {
    const images = existsSync(boot) ? readdirSync(boot).filter((f) => f.startsWith('vmlinuz-')).sort() : [];
    if (images.length) return join(boot, images[images.length - 1]);
  }
  return undefined;
}

/**
 * Paths of the cached corpus, creating what is missing: text.bin (.text bytes), text.json ({ vma, size,
 * kernel }) and objdump.bin (per objdump line: u32 offset into .text, then all lengths as u8, 0 = (bad)).
 */
export async function prepareCorpus({ vmlinuz = findVmlinuz(), log = () => {} } = {}) {
  if (!vmlinuz) throw new Error('no Debian kernel image (run tools/setup.sh, which unpacks linux-image-amd64 into the cache)');
  const dir = cacheDir();
  mkdirSync(dir, { recursive: true });
  const paths = { vmlinux: join(dir, 'vmlinux'), text: join(dir, 'text.bin'), meta: join(dir, 'text.json'), objdump: join(dir, 'objdump.bin') };
  const kernel = vmlinuz.split('/').pop();
  const meta = existsSync(paths.meta) ? JSON.parse(readFileSync(paths.meta, 'utf8')) : undefined;
  if (meta?.kernel === kernel && existsSync(paths.text) && existsSync(paths.objdump)) return paths;

  log(`extracting vmlinux from ${vmlinuz}`);
  await extractVmlinux(vmlinuz, paths.vmlinux);
  execFileSync('objcopy', ['-O', 'binary', '-j', '.text', paths.vmlinux, paths.text]);
  const { vma, size } = textSection(paths.vmlinux);
  log(`running objdump over ${size} bytes of .text`);
  const lines = await objdumpLengths(paths.vmlinux, vma);
  writeAtomic(paths.objdump, lines);
  writeAtomic(paths.meta, JSON.stringify({ kernel, vma: `0x${vma.toString(16)}`, size }));
  return paths;
}

/** Reads objdump.bin back as { offsets: Uint32Array, lengths: Uint8Array } (length 0 = objdump's `(bad)`). */
export function readObjdump(path) {
  const bytes = readFileSync(path);
  const count = bytes.readUInt32LE(0);
  const offsets = new Uint32Array(bytes.buffer.slice(bytes.byteOffset + 4, bytes.byteOffset + 4 + count * 4));
  const lengths = new Uint8Array(bytes.buffer.slice(bytes.byteOffset + 4 + count * 4, bytes.byteOffset + 4 + count * 5));
  return { offsets, lengths };
}

async function extractVmlinux(vmlinuz, out) {
  const image = readFileSync(vmlinuz);
  const at = image.indexOf(XZ_MAGIC);
  if (at < 0) throw new Error(`${vmlinuz}: no xz stream (magic FD 37 7A 58 5A 00) found`);
  // The bzImage carries trailing data after the stream: xz then exits non-zero, but its output is complete.
  await new Promise((resolve, reject) => {
    const xz = spawn('xz', ['-dc', '--single-stream'], { stdio: ['pipe', 'pipe', 'ignore'] });
    const chunks = [];
    xz.stdout.on('data', (c) => chunks.push(c));
    xz.on('error', reject);
    xz.on('close', () => {
      const elf = Buffer.concat(chunks);
      if (elf.readUInt32BE(0) !== 0x7f454c46) return reject(new Error(`${vmlinuz}: the xz stream is not an ELF file`));
      writeAtomic(out, elf);
      resolve();
    });
    xz.stdin.on('error', () => {}); // xz stops reading at the end of the stream
    xz.stdin.end(image.subarray(at));
  });
}

function textSection(vmlinux) {
  const headers = execFileSync('objdump', ['-h', '-j', '.text', vmlinux], { encoding: 'utf8' });
  const m = /\s\.text\s+([0-9a-f]+)\s+([0-9a-f]+)/.exec(headers);
  if (!m) throw new Error(`${vmlinux}: no .text section in objdump -h`);
  return { size: parseInt(m[1], 16), vma: BigInt(`0x${m[2]}`) };
}

// One line per instruction thanks to --wide and a 16-byte instruction width: "addr:\tbytes\tmnemonic ...".
async function objdumpLengths(vmlinux, vma) {
  const child = spawn('objdump', ['-d', '--wide', '--insn-width=16', '-j', '.text', vmlinux], { stdio: ['ignore', 'pipe', 'inherit'] });
  let offsets = new Uint32Array(1 << 23);
  let lengths = new Uint8Array(1 << 23);
  let count = 0;
  const line = /^\s*([0-9a-f]+):\t([0-9a-f ]+)\t(.*)$/;
  for await (const text of createInterface({ input: child.stdout })) {
    const m = line.exec(text);
    if (!m) continue;
    if (count === offsets.length) {
      offsets = grow(offsets);
      lengths = grow(lengths);
    }
    offsets[count] = Number(BigInt(`0x${m[1]}`) - vma);
    lengths[count] = m[3].startsWith('(bad)') ? 0 : m[2].trim().split(' ').length;
    count++;
  }
  const header = Buffer.alloc(4);
  header.writeUInt32LE(count);
  return Buffer.concat([header, Buffer.from(offsets.buffer, 0, count * 4), Buffer.from(lengths.buffer, 0, count)]);
}

function grow(array) {
  const bigger = new array.constructor(array.length * 2);
  bigger.set(array);
  return bigger;
}

function writeAtomic(path, data) {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const paths = await prepareCorpus({ log: (message) => console.error(message) });
  console.log(JSON.stringify(paths, null, 2));
}
