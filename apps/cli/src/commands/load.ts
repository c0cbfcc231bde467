import { IsolaError } from '@isola/errors';
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
    // Without -i the archive comes on standard input: from a terminal it would wait for typed bytes.
    if (flags.input === undefined && process.stdin.isTTY) throw new IsolaError('EUSAGE', 'load: no input: use -i FILE or DIRECTORY, or redirect standard input');
    const { loadImages } = await import('@isola/image');
    process.stdout.write(`${await loadImages(flags.input ?? process.stdin, { tag: flags.tag })}\n`);
  }
}
