import { Args, Flags } from '@oclif/core';
import { ImgCommand, badOption, imageFormat } from './base.js';

export default class ImgResize extends ImgCommand {
  static override summary = 'Grow or shrink a disk image (qemu-img resize)';
  static override flags = {
    format: Flags.string({ char: 'f', description: 'qcow2 or raw (detected when omitted)' }),
    shrink: Flags.boolean({ description: 'allow making the disk smaller (refused while data lies past the new end)' }),
    quiet: Flags.boolean({ char: 'q' }),
  };
  static override args = {
    filename: Args.string({ required: true }),
    size: Args.string({ required: true, description: 'new size, or +N / -N relative to the current one (use -- before a negative size)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ImgResize);
    const { openImage, parseSize } = await import('@isola/qcow2');
    const image = await openImage(args.filename, { format: imageFormat(flags.format) });
    try {
      const sign = args.size[0] === '+' ? 1 : args.size[0] === '-' ? -1 : 0;
      const size = sign === 0 ? parseSize(args.size) : image.size + sign * parseSize(args.size.slice(1));
      if (size < 0) throw badOption(`${args.filename}: cannot shrink by ${args.size.slice(1)}: the disk is only ${image.size} bytes`);
      if (size < image.size && !flags.shrink) throw badOption(`${args.filename}: shrinking from ${image.size} to ${size} bytes needs --shrink`);
      await image.resize(size);
    } finally {
      await image.close();
    }
    if (!flags.quiet) process.stdout.write('Image resized.\n');
  }
}
