import { Args, Flags } from '@oclif/core';
import { ImgCommand, imageFormat } from './base.js';

export default class ImgInfo extends ImgCommand {
  static override summary = 'Describe a disk image (qemu-img info)';
  static override flags = {
    format: Flags.string({ char: 'f', description: 'qcow2 or raw (detected when omitted)' }),
    output: Flags.string({ description: 'human (default) or json', options: ['human', 'json'], default: 'human' }),
    'backing-chain': Flags.boolean({ description: 'describe every image of the backing chain' }),
  };
  static override args = { filename: Args.string({ required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ImgInfo);
    const { imageInfo, formatInfo } = await import('@isola/qcow2');
    const chain = await imageInfo(args.filename, { format: imageFormat(flags.format), backingChain: flags['backing-chain'] });
    if (flags.output === 'json') {
      process.stdout.write(`${JSON.stringify(flags['backing-chain'] ? chain : chain[0], null, 4)}\n`);
    } else {
      process.stdout.write(chain.map((one) => formatInfo(one)).join('\n'));
    }
  }
}
