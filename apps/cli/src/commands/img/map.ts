import { Args, Flags } from '@oclif/core';
import { ImgCommand, imageFormat } from './base.js';

export default class ImgMap extends ImgCommand {
  static override summary = 'Show where each part of a disk is stored (qemu-img map)';
  static override flags = {
    format: Flags.string({ char: 'f', description: 'qcow2 or raw (detected when omitted)' }),
    output: Flags.string({ description: 'human (default) or json', options: ['human', 'json'], default: 'human' }),
  };
  static override args = { filename: Args.string({ required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ImgMap);
    const { openImage, mapImage, mapJson, formatMap } = await import('@isola/qcow2');
    const image = await openImage(args.filename, { readOnly: true, format: imageFormat(flags.format) });
    try {
      const entries = await mapImage(image);
      process.stdout.write(flags.output === 'json' ? mapJson(entries) : formatMap(entries));
    } finally {
      await image.close();
    }
  }
}
