import { Args, Flags } from '@oclif/core';
import { IsolaCommand } from '../base.js';

export default class Pull extends IsolaCommand {
  static override summary = 'Download an image from a registry';
  static override args = { image: Args.string({ required: true, description: 'NAME[:TAG|@DIGEST]' }) };
  static override flags = {
    platform: Flags.string({ description: 'OS/ARCH[/VARIANT] to pick from a multi-platform image (default: this host)' }),
    creds: Flags.string({ description: 'USER:PASSWORD for the registry' }),
    'plain-http': Flags.boolean({ description: 'use http:// (default only for localhost and 127.0.0.0/8)', allowNo: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Pull);
    const { pullImageFrom } = await import('@isola/image');
    process.stdout.write(`${await pullImageFrom(args.image, { platform: flags.platform, creds: flags.creds, plainHttp: flags['plain-http'] })}\n`);
  }
}
