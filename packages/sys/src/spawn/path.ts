// Which way a child is started: the interpreter's machine code (x86-64, ~3 ms), or the pure-TS path
// (a Node child, ~70+ ms) where that code cannot run. ISOLA_SPAWN=ts|machine-code forces one.
import { IsolaError } from '@isola/errors';
import * as c from '../abi/constants.js';
import { SyscallError } from '../errors.js';
import { type Mapping, mmap } from '../syscalls/memory.js';
import { INTERPRETER_HEX } from './interpreter.js';

export type SpawnPath = 'machine-code' | 'ts';

let code: Mapping | null | undefined;
let refused: SyscallError | undefined;

/**
 * The interpreter in an executable page, made once and shared by every spawn; null when this process may
 * not make memory executable (PR_SET_MDWE, an SELinux execmem denial: mprotect fails EACCES or EPERM).
 */
export function interpreterCode(): Mapping | null {
  if (code === undefined) {
    const page = mmap(4096);
    page.bytes.set(Buffer.from(INTERPRETER_HEX, 'hex'));
    try {
      page.protect(c.PROT_READ | c.PROT_EXEC);
      code = page;
    } catch (error) {
      page.unmap();
      if (!(error instanceof SyscallError) || (error.code !== 'EACCES' && error.code !== 'EPERM')) throw error;
      refused = error;
      code = null;
    }
  }
  return code;
}

/** The path spawnChild takes now (read on every spawn, so tests can switch it). */
export function spawnPath(): SpawnPath {
  const wanted = process.env.ISOLA_SPAWN;
  if (wanted === 'ts') return 'ts';
  if (wanted !== undefined && wanted !== '' && wanted !== 'machine-code') {
    throw new IsolaError('EUSAGE', `ISOLA_SPAWN=${wanted}: expected "machine-code" or "ts"`);
  }
  const usable = process.arch === 'x64' && interpreterCode() !== null;
  if (usable) return 'machine-code';
  if (wanted === 'machine-code') {
    const why = process.arch !== 'x64' ? `this is ${process.arch}, not x64` : `executable memory is refused (${refused?.message})`;
    throw new IsolaError('EUNSUPPORTED', `ISOLA_SPAWN=machine-code: the interpreter cannot run here: ${why}`);
  }
  return 'ts';
}
