import { describe, expect, it } from 'vitest';
import { streamOf, tarOf } from '../layer-builder.test-support.js';
import { BLOCK_SIZE, parseHeader, parseNumber } from './header.js';
import { parsePax } from './pax.js';
import { readTar, type TarEntry } from './reader.js';

async function entriesOf(bytes: Buffer, chunkSize = 777): Promise<Array<TarEntry['header'] & { body: string; xattrs: Map<string, Buffer> }>> {
  const out = [];
  for await (const entry of readTar(streamOf(bytes, chunkSize))) {
    const parts: Buffer[] = [];
    for await (const part of entry.body()) parts.push(part);
    out.push({ ...entry.header, body: Buffer.concat(parts).toString('utf8'), xattrs: entry.xattrs });
  }
  return out;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const payload = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  // The length counts its own digits.
  let length = payload.length + 1;
  while (String(length).length + payload.length !== length) length++;
  return Buffer.concat([Buffer.from(String(length)), payload]);
}

/** Sets the type flag of the header at `offset` and fixes its checksum: for types tar-stream will not write. */
function retype(tar: Buffer, offset: number, flag: string): Buffer {
  const out = Buffer.from(tar);
  out[offset + 156] = flag.charCodeAt(0);
  out.fill(0x20, offset + 148, offset + 156);
  let sum = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) sum += out[offset + i];
  out.write(`${sum.toString(8).padStart(6, '0')}\0 `, offset + 148, 'latin1');
  return out;
}

describe('readTar', () => {
  it('reads every entry type tar-stream writes, with ids, modes, times and bodies', async () => {
    const longName = `deep/${'x'.repeat(150)}/file.txt`;
    const tar = await tarOf([
      { name: 'dir/', mode: 0o1755, uid: 1000, gid: 1001 },
      { name: 'dir/file', content: 'hello world', mode: 0o4755, mtime: new Date(1_600_000_000_000) },
      { name: 'dir/link', type: 'symlink', linkname: '../target' },
      { name: 'dir/hard', type: 'link', linkname: 'dir/file' },
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'dev/loop0', type: 'block-device', devmajor: 7, devminor: 0 },
      { name: 'pipe', type: 'fifo' },
      { name: longName, content: 'long' },
    ]);
    const entries = await entriesOf(tar);
    expect(entries.map((e) => [e.name, e.type])).toEqual([
      ['dir/', 'directory'],
      ['dir/file', 'file'],
      ['dir/link', 'symlink'],
      ['dir/hard', 'hardlink'],
      ['dev/null', 'char-device'],
      ['dev/loop0', 'block-device'],
      ['pipe', 'fifo'],
      [longName, 'file'],
    ]);
    expect(entries[0]).toMatchObject({ mode: 0o1755, uid: 1000, gid: 1001 });
    expect(entries[1]).toMatchObject({ mode: 0o4755, mtime: 1_600_000_000, size: 11, body: 'hello world' });
    expect(entries[2].linkname).toBe('../target');
    expect(entries[3].linkname).toBe('dir/file');
    expect(entries[4]).toMatchObject({ devmajor: 1, devminor: 3 });
    expect(entries[7].body).toBe('long');
  });

  it('keeps binary xattr values from PAX records byte for byte', async () => {
    const capability = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0xff, 0xfe, 0x80]);
    const records = Buffer.concat([paxRecord('SCHILY.xattr.security.capability', capability), paxRecord('SCHILY.xattr.user.note', Buffer.from('hi'))]);
    // Written as a file, then retyped to 'x': tar-stream would encode the values as UTF-8.
    const tar = retype(await tarOf([{ name: 'PaxHeaders/ping', content: records }, { name: 'bin/ping', content: 'ELF' }]), 0, 'x');
    const [ping] = await entriesOf(tar);
    expect(ping.name).toBe('bin/ping');
    expect(ping.xattrs.get('security.capability')).toEqual(capability);
    expect(ping.xattrs.get('user.note')?.toString()).toBe('hi');
  });

  it('skips an unread body and still finds the next entry', async () => {
    const tar = await tarOf([{ name: 'a', content: 'x'.repeat(5000) }, { name: 'b', content: 'y' }]);
    const names: string[] = [];
    for await (const entry of readTar(streamOf(tar, 300))) names.push(entry.header.name);
    expect(names).toEqual(['a', 'b']);
  });

  it('reports truncation inside data, inside a header, and a missing end marker', async () => {
    const tar = await tarOf([{ name: 'a', content: 'x'.repeat(2000) }]);
    await expect(entriesOf(tar.subarray(0, 1000))).rejects.toMatchObject({ code: 'ELAYER_TRUNCATED', message: expect.stringContaining('"a"') });
    await expect(entriesOf(tar.subarray(0, 100))).rejects.toMatchObject({ code: 'ELAYER_TRUNCATED' });
    await expect(entriesOf(tar.subarray(0, BLOCK_SIZE * 5))).rejects.toMatchObject({
      code: 'ELAYER_TRUNCATED',
      message: expect.stringContaining('end-of-archive'),
    });
    await expect(entriesOf(Buffer.alloc(0))).rejects.toMatchObject({ code: 'ELAYER_TRUNCATED' });
  });

  it('refuses a corrupt header and a GNU sparse file', async () => {
    const tar = await tarOf([{ name: 'a', content: 'x' }]);
    const corrupt = Buffer.from(tar);
    corrupt[10] ^= 0xff;
    await expect(entriesOf(corrupt)).rejects.toMatchObject({ code: 'ELAYER_TAR', message: expect.stringContaining('checksum') });

    const sparse = retype(tar, 0, 'S');
    expect(() => parseHeader(sparse.subarray(0, BLOCK_SIZE), 0)).toThrow(/unsupported entry type "S"/);
  });
});

describe('tar numbers and PAX records', () => {
  it('parses octal with padding and GNU base-256', () => {
    const block = Buffer.alloc(BLOCK_SIZE);
    block.write(' 0000755\0', 100, 'latin1');
    expect(parseNumber(block, [100, 8], 0, 'mode')).toBe(0o755);
    block.fill(0, 124, 136);
    block[124] = 0x80;
    block.writeUIntBE(2 ** 40, 130, 6);
    expect(parseNumber(block, [124, 12], 0, 'size')).toBe(2 ** 40);
    block.write('12x4\0', 108, 'latin1');
    expect(() => parseNumber(block, [108, 8], 0, 'uid')).toThrow('uid is not an octal number: "12x4"');
    block.write('  17 9\0', 116, 'latin1');
    expect(parseNumber(block, [116, 8], 0, 'gid')).toBe(0o17);
    block.fill(0x20, 329, 337);
    expect(parseNumber(block, [329, 8], 0, 'devmajor')).toBe(0);
  });

  it('accepts checksums summed as unsigned or as signed bytes, and a UTF-8 name', async () => {
    const tar = await tarOf([{ name: 'a', content: 'x' }]);
    const header = Buffer.from(tar.subarray(0, BLOCK_SIZE));
    header.write('caf\u00e9/\u00fc.txt\0', 0, 'utf8');
    header.fill(0x20, 148, 156);
    let unsigned = 0;
    let signed = 0;
    for (const byte of header) {
      unsigned += byte;
      signed += byte > 127 ? byte - 256 : byte;
    }
    expect(signed).not.toBe(unsigned);
    header.write(`${signed.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    expect(parseHeader(header, 0).name).toBe('caf\u00e9/\u00fc.txt');
    header.write(`${(unsigned + 1).toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    expect(() => parseHeader(header, 0)).toThrow(/checksum mismatch/);
  });

  it('rejects a PAX record whose length is wrong', () => {
    expect(parsePax(Buffer.from('11 path=ab\n'), 0).get('path')?.toString()).toBe('ab');
    expect(() => parsePax(Buffer.from('12 path=ab\n'), 0)).toThrow(/malformed record/);
    expect(() => parsePax(Buffer.from('99 path=ab\n'), 0)).toThrow(/malformed record/);
  });
});
