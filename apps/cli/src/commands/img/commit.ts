import { Args, Flags } from '@oclif/core';
import { ImgCommand } from './base.js';

export default class ImgCommit extends ImgCommand {
  static override summary = 'Write an overlay into its backing file (qemu-img commit)';
  static override flags = {
    format: Flags.string({ char: 'f', description: 'qcow2' }),
    'keep': Flags.boolean({ char: 'd', description: 'do not empty the overlay afterwards' }),
    quiet: Flags.boolean({ char: 'q' }),
  };
  static override args = { filename: Args.string({ required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ImgCommit);
    const { commit } = await import('@isola/qcow2');
    await commit(args.filename, { keep: flags.keep });
    if (!flags.quiet) process.stdout.write('Image committed.\n');
  }
}
