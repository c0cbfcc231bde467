import { Args, Flags } from '@oclif/core';
import { IsolaCommand } from '../../base.js';

export default class NetworkCreate extends IsolaCommand {
  static override summary = 'Create a bridge network that containers join with --network NAME';
  static override description = 'Containers on one user-defined network reach each other by name. Without --subnet, the first free /16 of docker\'s pools is used.';
  static override args = { name: Args.string({ required: true, description: 'network name' }) };
  static override flags = {
    subnet: Flags.string({ description: 'subnet in CIDR form (e.g. 10.89.0.0/24)' }),
    gateway: Flags.string({ description: 'gateway address inside the subnet (default: its first address)' }),
    label: Flags.string({ multiple: true, description: 'set metadata: KEY=VALUE' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(NetworkCreate);
    const labels = Object.fromEntries((flags.label ?? []).map((l) => [l.split('=')[0]!, l.includes('=') ? l.slice(l.indexOf('=') + 1) : '']));
    const { createNetwork } = await import('@isola/engine');
    const network = createNetwork({ name: args.name, subnet: flags.subnet, gateway: flags.gateway, labels });
    process.stdout.write(`${network.id}\n`);
  }
}
