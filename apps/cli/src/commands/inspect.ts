import { Args } from '@oclif/core';
import { IsolaCommand } from '../base.js';

export default class Inspect extends IsolaCommand {
  static override summary = 'Show images as JSON, like docker image inspect';
  static override strict = false;
  static override args = { image: Args.string({ required: true, description: 'image name, tag or ID' }) };

  async run(): Promise<void> {
    const { argv } = await this.parse(Inspect);
    const { inspectImages } = await import('@isola/image');
    process.stdout.write(`${JSON.stringify(await inspectImages(argv as string[]), null, 4)}\n`);
  }
}
