import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { itNeeds } from '../../../test/support/requirements.js';
import { inspectElf } from './elf.js';

const hostArch = process.arch === 'x64' ? 'amd64' : process.arch;

describe('inspectElf', () => {
  itNeeds({ files: ['/bin/busybox'] })('sees that busybox-static is static', () => {
    expect(inspectElf(readFileSync('/bin/busybox'), '/bin/busybox')).toEqual({ architecture: hostArch, isStatic: true });
  });

  it('sees that node is dynamically linked', () => {
    // Debian's node is a dynamic executable, like Debian's non-static busybox.
    expect(inspectElf(readFileSync(process.execPath), process.execPath)).toEqual({ architecture: hostArch, isStatic: false });
  });

  it('names the file and the reason when it is not an ELF64 little-endian binary', () => {
    expect(() => inspectElf(Buffer.from('#!/bin/sh\necho hi\n'.padEnd(64)), '/x')).toThrow('/x is not a usable ELF binary: bad magic');
    const elf32 = Buffer.alloc(64);
    elf32.set([0x7f, 0x45, 0x4c, 0x46, 1, 1]);
    expect(() => inspectElf(elf32, '/y')).toThrow('not 64-bit little-endian');
  });

  it('refuses program headers that point past the end of the file', () => {
    const header = Buffer.alloc(64);
    header.set([0x7f, 0x45, 0x4c, 0x46, 2, 1]);
    header.writeUInt16LE(62, 0x12);
    header.writeUInt32LE(0x40, 0x20);
    header.writeUInt16LE(56, 0x36);
    header.writeUInt16LE(1, 0x38);
    expect(() => inspectElf(header, '/z')).toThrow('program headers out of bounds');
  });
});
