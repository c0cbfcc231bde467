// The container monitor's bytes (a 908-byte static ELF assembled from monitor.S), where it is put on disk,
// and the records it writes. See monitor.S for what it does and why it is assembly.
// Regenerate: as --64 -o m.o monitor.S && objcopy -O binary -j .text m.o m.bin && xxd -p m.bin
import { installExecutable } from '../libexec.js';

export const MONITOR_HEX =
  '7f454c4602010100000000000000000002003e0001000000e800400000000000400000000000000000000000000000000000' +
  '000040003800030000000000000001000000050000000000000000000000000040000000000000004000000000008c030000' +
  '000000008c030000000000000010000000000000010000000600000000000000000000000000410000000000000041000000' +
  '000000000000000000007000010000000000001000000000000051e574640600000000000000000000000000000000000000' +
  '00000000000000000000000000000000000000000000000010000000000000004c8b24244c8d6c24084e8d74e410b80d0000' +
  '00bf11000000be2800410031d241ba080000000f05b80e000000bf02000000be2800410031d20f054983fc030f823f020000' +
  '498b75084531ff0fb60683e83083f809770c4d6bff0a4901c748ffc6ebe9b802000000498b7d10be000009000f054889c5bb' +
  '0000410048b8000000000100000048890348b80100000001000000488943088b032343080f88d8000000b8070000004889df' +
  'be02000000baffffffff0f054883f8fc74db4885c00f88b50000004989d841b901000000e8110000004c8d430841b9020000' +
  '00e802000000ebb36641837806000f848900000031c0496338be70004100ba000001000f054883f8fc74724883f8f5746c48' +
  '85c07e564989c2b8e400000031ffbe100041000f05488b0425100041004869c000ca9a3b4803042518004100488904256000' +
  '4100448914256800410044890c256c004100b801000000bf02000000be60004100498d52100f05c3b8030000004963380f05' +
  '41c700ffffffffc3b83d000000bfffffffffbe2000410031d24531d20f054883f8fc74e44885c00f88a20000004c39f875d6' +
  'b8e400000031ffbe100041000f058b04252000410089042550004100c704255400410001000000488b0425100041004869c0' +
  '00ca9a3b48030425180041004889042558004100b8010100004889ef488d3595000000ba4102080041baa40100000f054885' +
  'c078364889c7b801000000be50004100ba100000000f05b8030000000f05b8080100004889ef488d35590000004889ea4c8d' +
  '15580000000f054983fc04723e31ffb8030000000f05ffc783ff0372f2bb03000000b802000000488d3d34000000be020000' +
  '000f05ffcb75e9b83b000000498b7d18498d75184c89f20f05b8e700000031ff0f05657869742e746d700065786974002f64' +
  '65762f6e756c6c00';
/** Log records: a 16-byte header (i64 LE realtime ns, u32 length, u32 stream) before the bytes. */
export const LOG_HEADER_SIZE = 16;
export const STREAM = { stdout: 1, stderr: 2 } as const;
/** `<dir>/exit`: u32 wait status, u32 version (1), i64 realtime ns. */
export const EXIT_RECORD_SIZE = 16;

export interface ExitRecord {
  /** As a shell reports it: the exit code, or 128 + the signal. */
  exitCode: number;
  signal?: number;
  /** When the monitor reaped the init. */
  finishedAt: Date;
}

export function decodeExitRecord(bytes: Buffer): ExitRecord | undefined {
  if (bytes.length !== EXIT_RECORD_SIZE || bytes.readUInt32LE(4) !== 1) return undefined;
  const status = bytes.readUInt32LE(0);
  const finishedAt = new Date(Number(bytes.readBigInt64LE(8) / 1_000_000n));
  const signal = status & 0x7f;
  // WIFEXITED: low 7 bits zero; otherwise killed by that signal.
  return signal === 0 ? { exitCode: (status >> 8) & 0xff, finishedAt } : { exitCode: 128 + signal, signal, finishedAt };
}

/** The same record, for a process that is its container's parent itself (foreground `run --rm`). */
export function encodeExitRecord(exitCode: number, at = new Date()): Buffer {
  const bytes = Buffer.alloc(EXIT_RECORD_SIZE);
  bytes.writeUInt32LE(exitCode > 128 && exitCode < 128 + 65 ? exitCode - 128 : (exitCode & 0xff) << 8, 0);
  bytes.writeUInt32LE(1, 4);
  bytes.writeBigInt64LE(BigInt(at.getTime()) * 1_000_000n, 8);
  return bytes;
}

/**
 * Writes the monitor under `<root>/libexec/` once per version (named by its hash, so a running copy is
 * never overwritten) and returns its path.
 */
export function installMonitor(root: string): string {
  return installExecutable(root, 'isola-monitor', MONITOR_HEX);
}
