import { Args, Flags } from '@oclif/core';
import { IsolaCommand } from '../base.js';

export default class Push extends IsolaCommand {
  static override summary = 'Upload an image to a registry';
  static override args = {
    image: Args.string({ required: true, description: 'local image name, tag or ID' }),
    destination: Args.string({ description: 'HOST/NAME:TAG to push to (default: the image name)' }),
  };
  static override flags = {
    creds: Flags.string({ description: 'USER:PASSWORD for the registry' }),
    'plain-http': Flags.boolean({ description: 'use http:// (default only for localhost and 127.0.0.0/8)', allowNo: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Push);
    const { pushImageTo } = await import('@isola/image');
    process.stdout.write(`${await pushImageTo(args.image, args.destination, { creds: flags.creds, plainHttp: flags['plain-http'] })}\n`);
  }
}
