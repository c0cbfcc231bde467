import { Args, Flags } from '@oclif/core';
import { ImgCommand, imageFormat } from './base.js';

export default class ImgCompare extends ImgCommand {
  static override summary = 'Compare the contents of two disk images (qemu-img compare)';
  static override description = 'Exit status: 0 identical, 1 different, 2 error.';
  static override flags = {
    'a-format': Flags.string({ char: 'f', description: 'format of the first image' }),
    'b-format': Flags.string({ char: 'F', description: 'format of the second image' }),
    strict: Flags.boolean({ char: 's', description: 'images of different sizes differ' }),
    quiet: Flags.boolean({ char: 'q' }),
  };
  static override args = { first: Args.string({ required: true }), second: Args.string({ required: true }) };
  protected override errorStatus = 2;

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ImgCompare);
    const { compareImages, formatCompare } = await import('@isola/qcow2');
    const result = await compareImages(args.first, args.second, {
      formatA: imageFormat(flags['a-format']),
      formatB: imageFormat(flags['b-format']),
      strict: flags.strict,
    });
    if (!flags.quiet) process.stdout.write(formatCompare(result));
    process.exitCode = result.identical ? 0 : 1;
  }
}
