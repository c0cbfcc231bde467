import { Args } from '@oclif/core';
import { IsolaCommand } from '../../base.js';

export default class NetworkInspect extends IsolaCommand {
  static override summary = 'Show networks as docker network inspect does';
  static override strict = false;
  static override args = { network: Args.string({ required: true, description: 'network name or id' }) };

  async run(): Promise<void> {
    const { argv } = await this.parse(NetworkInspect);
    const { inspectNetworks } = await import('@isola/engine');
    process.stdout.write(`${JSON.stringify(inspectNetworks(argv as string[]), null, 4)}\n`);
  }
}
