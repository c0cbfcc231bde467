import { Flags } from '@oclif/core';
import { IsolaCommand } from '../base.js';

export default class Images extends IsolaCommand {
  static override summary = 'List images in the local store';
  static override flags = {
    format: Flags.string({ description: 'table (default) or json', options: ['table', 'json'], default: 'table' }),
    quiet: Flags.boolean({ char: 'q', description: 'only print image IDs' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Images);
    const { listImages } = await import('@isola/image');
    process.stdout.write(`${await listImages({ format: flags.format as 'table' | 'json', quiet: flags.quiet })}\n`);
  }
}
