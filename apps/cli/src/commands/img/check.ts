import { Args, Flags } from '@oclif/core';
import { ImgCommand, badOption } from './base.js';

export default class ImgCheck extends ImgCommand {
  static override summary = 'Check (and repair) a qcow2 image (qemu-img check)';
  static override description = 'Exit status: 0 clean, 1 check not completed, 2 corruptions found, 3 only leaks found.';
  static override flags = {
    format: Flags.string({ char: 'f', description: 'qcow2' }),
    repair: Flags.string({ char: 'r', description: 'repair leaks, or all', options: ['leaks', 'all'] }),
    output: Flags.string({ description: 'human (default) or json', options: ['human', 'json'], default: 'human' }),
    quiet: Flags.boolean({ char: 'q' }),
  };
  static override args = { filename: Args.string({ required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ImgCheck);
    if (flags.format === 'raw') throw badOption(`${args.filename}: raw images have no metadata to check (qemu-img: this image format does not support checks)`);
    const { check, checkJson, formatCheck, checkExitStatus } = await import('@isola/qcow2');
    const result = await check(args.filename, { repair: flags.repair as 'leaks' | 'all' | undefined });
    for (const line of result.messages) process.stderr.write(`${line}\n`);
    if (flags.output === 'json') process.stdout.write(`${JSON.stringify(checkJson(result), null, 4)}\n`);
    else if (!flags.quiet) process.stdout.write(formatCheck(result));
    process.exitCode = checkExitStatus(result);
  }
}
