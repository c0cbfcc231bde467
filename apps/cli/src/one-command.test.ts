import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from './commands.js';
import { ONE_COMMAND, oneCommandOptions, soleCommand } from './one-command.js';

const binUrl = pathToFileURL(fileURLToPath(new URL('../bin/isola.cjs', import.meta.url))).href;

describe('soleCommand', () => {
  it('takes a one-word command named first', () => {
    expect(soleCommand(['run', '--rm', 'busybox', 'true'])).toBe('run');
    expect(soleCommand(['ps', '-a'])).toBe('ps');
    expect(soleCommand(['images'])).toBe('images');
  });

  it('leaves topics, flags first, unknown words and odd strings to the full table', () => {
    for (const args of [['vm', 'run'], ['container', 'ls'], ['image', 'prune'], ['--help'], ['-v'], [], ['frobnicate'], ['__proto__'], ['constructor'], ['RUN']]) {
      expect(soleCommand(args)).toBeUndefined();
    }
  });

  it('knows a topic from the table it is given', () => {
    expect(soleCommand(['vm'], { vm: {}, 'vm:run': {} })).toBeUndefined();
    expect(soleCommand(['vm'], { vm: {} })).toBe('vm');
  });
});

describe('oneCommandOptions', () => {
  it("gives oclif the CLI's package.json with a table of that command alone", () => {
    const options = oneCommandOptions(['ps', '-a'], binUrl)!;
    expect(options.root).toBe(fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, ''));
    expect(options.pjson!.name).toBe('isola');
    expect(options.pjson!.oclif.commands).toMatchObject({ strategy: 'explicit', identifier: 'ONE_COMMAND', target: './dist/isola.cjs' });
    expect(ONE_COMMAND.ps).toBe(COMMANDS.ps);
  });

  it('is undefined where the full table is needed', () => {
    expect(oneCommandOptions(['vm', 'ls'], binUrl)).toBeUndefined();
  });
});
