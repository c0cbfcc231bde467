import { Args } from '@oclif/core';
import { IsolaCommand } from '../base.js';

export default class Inspect extends IsolaCommand {
  static override summary = 'Show images or containers as JSON, like docker inspect';
  static override description = 'Each name is looked up as an image first, then as a container (name or ID prefix).';
  static override strict = false;
  static override args = { name: Args.string({ required: true, description: 'image or container name, tag or ID' }) };

  async run(): Promise<void> {
    const { argv } = await this.parse(Inspect);
    const names = argv as string[];
    const { inspectImages } = await import('@isola/image');
    try {
      process.stdout.write(`${JSON.stringify(await inspectImages(names), null, 4)}\n`);
    } catch (imageError) {
      const { inspectContainers } = await import('@isola/engine');
      try {
        process.stdout.write(`${JSON.stringify(await inspectContainers(names), null, 4)}\n`);
      } catch {
        throw imageError; // neither: say what was looked for as an image
      }
    }
  }
}
