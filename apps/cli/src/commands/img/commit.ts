import { Args, Flags } from '@oclif/core';
import { ImgCommand, withProgress } from './base.js';

export default class ImgCommit extends ImgCommand {
  static override summary = 'Write an overlay into its backing file (qemu-img commit)';
  static override flags = {
    format: Flags.string({ char: 'f', description: 'qcow2' }),
    'keep': Flags.boolean({ char: 'd', description: 'do not empty the overlay afterwards' }),
    progress: Flags.boolean({ char: 'p', description: 'show progress (qemu-img\'s "(12.34/100%)" line on stdout)' }),
    quiet: Flags.boolean({ char: 'q', description: 'print nothing but errors (wins over -p)' }),
  };
  static override args = { filename: Args.string({ required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ImgCommit);
    const { commit } = await import('@isola/qcow2');
    await withProgress(flags.progress && !flags.quiet, (onProgress) => commit(args.filename, { keep: flags.keep, onProgress }));
    if (!flags.quiet) process.stdout.write('Image committed.\n');
  }
}
