// The isola command, for what must run as its own process (a detached container's monitor, a VMM).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { IsolaError } from '@isola/errors';

export const CLI = fileURLToPath(new URL('../../../apps/cli/bin/isola.cjs', import.meta.url));

/** `isola ARGS...` to its end; its stdout. */
export async function isola(args: string[], root?: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, ...args], { env: { ...process.env, ...(root ? { ISOLA_ROOT: root } : {}) } });
    return stdout;
  } catch (cause) {
    const stderr = String((cause as { stderr?: string }).stderr ?? '').trim().split('\n')[0];
    throw new IsolaError('ECOMPARE', `isola ${args.join(' ')} failed${stderr ? `: ${stderr}` : ''}`, { cause });
  }
}
