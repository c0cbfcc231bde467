// `isola compare` as users run it: bad --rounds is a one-line usage error, given before anything runs.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect } from 'vitest';
import { itNeeds } from '../../../test/support/requirements.js';
import { CLI } from './cli.js';

const BUNDLE = CLI.replace(/bin\/isola\.cjs$/, 'dist/isola.cjs');

async function compare(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, 'compare', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('isola compare', () => {
  itNeeds({ files: [BUNDLE] })('rejects --rounds 0, x, 101 and an injected command in one line with status 2', async () => {
    for (const bad of ['0', 'x', '101', '1;reboot']) {
      const { code, stdout, stderr } = await compare(['--rounds', bad]);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toEqual([`Error: --rounds ${JSON.stringify(bad)}: must be a whole number from 1 to 100`]);
    }
  });
});
