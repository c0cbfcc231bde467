import { IsolaError } from '@isola/errors';
import { Args, Flags } from '@oclif/core';
import { IsolaCommand } from '../base.js';

export default class Save extends IsolaCommand {
  static override summary = 'Save images to an OCI archive, OCI layout directory or docker-save archive';
  static override strict = false;
  static override args = { image: Args.string({ required: true, description: 'image name, tag or ID' }) };
  static override flags = {
    output: Flags.string({ char: 'o', description: 'file or directory to write (default: standard output)' }),
    format: Flags.string({ description: 'output format', options: ['oci-archive', 'oci-dir', 'docker-archive'], default: 'oci-archive' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Save);
    // As docker: an archive is not for a terminal, and the usual mistake is a forgotten -o.
    if (flags.output === undefined && process.stdout.isTTY) throw new IsolaError('EUSAGE', 'save: refusing to write an image archive to a terminal: use -o FILE or redirect standard output');
    const { saveImagesTo } = await import('@isola/image');
    await saveImagesTo(argv as string[], flags.output ?? process.stdout, { format: flags.format as 'oci-archive' | 'oci-dir' | 'docker-archive' });
  }
}
