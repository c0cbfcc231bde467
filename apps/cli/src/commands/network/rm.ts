import { Args } from '@oclif/core';
import { IsolaCommand } from '../../base.js';

export default class NetworkRm extends IsolaCommand {
  static override summary = 'Remove networks (not one a container is on)';
  static override strict = false;
  static override args = { network: Args.string({ required: true, description: 'network name or id' }) };

  async run(): Promise<void> {
    const { argv } = await this.parse(NetworkRm);
    const { removeNetworks } = await import('@isola/engine');
    const { removed, error } = await removeNetworks(argv as string[]);
    process.stdout.write(removed.map((n) => `${n}\n`).join(''));
    if (error) throw error;
  }
}
