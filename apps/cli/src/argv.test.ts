import { describe, expect, it } from 'vitest';
import { splitAtPositional } from './argv.js';
import Exec from './commands/exec.js';
import Run from './commands/run.js';

describe('splitAtPositional', () => {
  it('run: value flags (long and short) consume their value; the command keeps its dashes', () => {
    expect(splitAtPositional(['-e', 'A=1', '--name', 'web', '-d', 'busybox', 'ls', '-l', '--all'], Run.flags)).toEqual([
      ['-e', 'A=1', '--name', 'web', '-d'], ['busybox', 'ls', '-l', '--all'],
    ]);
    expect(splitAtPositional(['-m', '32m', '-p', '8080:80', '-v', '/a:/b', 'img'], Run.flags)).toEqual([['-m', '32m', '-p', '8080:80', '-v', '/a:/b'], ['img']]);
  });
  it('exec: flags end at the container; -- ends them too; no positional leaves rest empty', () => {
    expect(splitAtPositional(['-it', '-u', '0', 'web', 'sh', '-c', 'x'], Exec.flags)).toEqual([['-it', '-u', '0'], ['web', 'sh', '-c', 'x']]);
    expect(splitAtPositional(['-d', '--', '-weird'], Exec.flags)).toEqual([['-d'], ['-weird']]);
    expect(splitAtPositional(['-d', '--env', 'X'], Exec.flags)).toEqual([['-d', '--env', 'X'], []]);
  });
});
