import { Args } from '@oclif/core';
import { IsolaCommand } from '../base.js';

export default class Tag extends IsolaCommand {
  static override summary = 'Give an image another name';
  static override args = {
    source: Args.string({ required: true, description: 'image name, tag or ID' }),
    target: Args.string({ required: true, description: 'new name[:tag]' }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(Tag);
    const { tagImage } = await import('@isola/image');
    await tagImage(args.source, args.target);
  }
}
