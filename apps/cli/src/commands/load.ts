import { Flags } from '@oclif/core';
import { IsolaCommand } from '../base.js';

export default class Load extends IsolaCommand {
  static override summary = 'Load images from an OCI layout, OCI archive or docker-save archive';
  static override flags = {
    input: Flags.string({ char: 'i', description: 'archive file or OCI layout directory (default: standard input)' }),
    tag: Flags.string({ description: 'name for an image the input does not name' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Load);
    const { loadImages } = await import('@isola/image');
    process.stdout.write(`${await loadImages(flags.input ?? process.stdin, { tag: flags.tag })}\n`);
  }
}
