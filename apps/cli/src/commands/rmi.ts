import { Args, Flags } from '@oclif/core';
import { IsolaCommand } from '../base.js';

export default class Rmi extends IsolaCommand {
  static override summary = 'Remove images (a tag, or an image by ID with all its tags)';
  static override strict = false;
  static override args = { image: Args.string({ required: true, description: 'image name, tag or ID' }) };
  static override flags = { force: Flags.boolean({ char: 'f', description: 'remove an image that has several tags' }) };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Rmi);
    const { removeImages } = await import('@isola/image');
    const out = await removeImages(argv as string[], { force: flags.force });
    if (out) process.stdout.write(`${out}\n`);
  }
}
