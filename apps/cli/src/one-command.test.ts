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

  it('takes a command of a topic named by its two words', () => {
    expect(soleCommand(['img', 'convert', '-O', 'qcow2', 'a.raw', 'b.qcow2'])).toBe('img:convert');
    expect(soleCommand(['vm', 'run', '--kernel', 'k'])).toBe('vm:run');
    expect(soleCommand(['container', 'inspect', 'web'])).toBe('container:inspect');
  });

  it('leaves topics alone, flags first, unknown words and odd strings to the full table', () => {
    for (const args of [['vm'], ['img', '--help'], ['img', 'frobnicate'], ['img', '-f', 'convert'], ['image', 'prune-everything'], ['--help'], ['-v'], [], ['frobnicate'], ['__proto__'], ['constructor'], ['img', 'constructor'], ['RUN']]) {
      expect(soleCommand(args)).toBeUndefined();
    }
  });

  it('knows a topic from the table it is given', () => {
    expect(soleCommand(['vm'], { vm: {}, 'vm:run': {} })).toBeUndefined();
    expect(soleCommand(['vm', 'run'], { vm: {}, 'vm:run': {} })).toBe('vm:run');
    expect(soleCommand(['vm', 'image'], { vm: {}, 'vm:run': {} })).toBeUndefined(); // `vm` with an argument: oclif decides
    expect(soleCommand(['vm'], { vm: {} })).toBe('vm');
    expect(soleCommand(['vm', 'run'], { 'vm:run': {}, 'vm:run:fast': {} })).toBeUndefined();
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

  it('gives a topic command a table of its own', () => {
    expect(oneCommandOptions(['img', 'info', 'x.qcow2'], binUrl)).toBeDefined();
    expect(ONE_COMMAND['img:info']).toBe(COMMANDS['img:info']);
  });

  it('is undefined where the full table is needed', () => {
    expect(oneCommandOptions(['vm'], binUrl)).toBeUndefined();
    expect(oneCommandOptions(['img', '--help'], binUrl)).toBeUndefined();
  });
});
