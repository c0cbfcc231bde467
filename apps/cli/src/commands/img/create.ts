import { Args, Flags } from '@oclif/core';
import { ImgCommand, createOptions, imageFormat } from './base.js';

export default class ImgCreate extends ImgCommand {
  static override summary = 'Create a disk image (qemu-img create)';
  static override flags = {
    format: Flags.string({ char: 'f', description: 'qcow2 (default) or raw', default: 'qcow2' }),
    options: Flags.string({ char: 'o', description: 'cluster_size=, compat=0.10|1.1, refcount_bits=, lazy_refcounts=, extended_l2=, backing_file=, backing_fmt=', multiple: true, multipleNonGreedy: true }),
    backing: Flags.string({ char: 'b', description: 'backing file' }),
    'backing-format': Flags.string({ char: 'F', description: 'backing file format' }),
    quiet: Flags.boolean({ char: 'q', description: 'print nothing' }),
  };
  static override args = {
    filename: Args.string({ required: true }),
    size: Args.string({ description: 'bytes, or with a k, M, G, T suffix; defaults to the backing file size' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ImgCreate);
    const { create, formatCreate, parseSize } = await import('@isola/qcow2');
    const request = {
      format: imageFormat(flags.format) ?? 'qcow2',
      ...(await createOptions(flags.options)),
      ...(flags.backing !== undefined ? { backingFile: flags.backing } : {}),
      ...(flags['backing-format'] !== undefined ? { backingFormat: imageFormat(flags['backing-format']) } : {}),
      size: args.size === undefined ? undefined : parseSize(args.size),
    };
    const size = await create(args.filename, request);
    if (!flags.quiet) process.stdout.write(formatCreate(args.filename, request, size));
  }
}
