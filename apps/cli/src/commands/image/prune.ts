import { Flags } from '@oclif/core';
import { IsolaCommand } from '../../base.js';

export default class ImagePrune extends IsolaCommand {
  static override summary = 'Remove untagged images and every blob and layer no image uses';
  static override flags = { all: Flags.boolean({ char: 'a', description: 'remove all images no container uses, not only untagged ones' }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(ImagePrune);
    const { pruneImages } = await import('@isola/image');
    process.stdout.write(`${await pruneImages({ all: flags.all })}\n`);
  }
}
