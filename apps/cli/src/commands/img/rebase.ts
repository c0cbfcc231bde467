import { Args, Flags } from '@oclif/core';
import { ImgCommand, imageFormat, withProgress } from './base.js';

export default class ImgRebase extends ImgCommand {
  static override summary = 'Change the backing file of an overlay (qemu-img rebase)';
  static override flags = {
    format: Flags.string({ char: 'f', description: 'qcow2' }),
    backing: Flags.string({ char: 'b', description: 'new backing file ("" for none)', required: true }),
    'backing-format': Flags.string({ char: 'F', description: 'new backing file format' }),
    unsafe: Flags.boolean({ char: 'u', description: 'only rewrite the name; do not copy differing data' }),
    progress: Flags.boolean({ char: 'p', description: 'show progress (qemu-img\'s "(12.34/100%)" line on stdout)' }),
    quiet: Flags.boolean({ char: 'q', description: 'print nothing but errors (wins over -p)' }),
  };
  static override args = { filename: Args.string({ required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ImgRebase);
    const { rebase } = await import('@isola/qcow2');
    const options = { backingFile: flags.backing, backingFormat: imageFormat(flags['backing-format']), unsafe: flags.unsafe };
    await withProgress(flags.progress && !flags.quiet, (onProgress) => rebase(args.filename, { ...options, onProgress }));
  }
}
