import { Args } from '@oclif/core';
import { IsolaError } from '@isola/errors';
import { IsolaCommand } from '../base.js';

export default class Port extends IsolaCommand {
  static override summary = "List a container's published ports, or the host address of one of them";
  static override args = {
    container: Args.string({ required: true, description: 'container name or id' }),
    port: Args.string({ description: 'PRIVATE_PORT[/PROTO]' }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(Port);
    const { containerPorts } = await import('@isola/engine');
    const { name, ports } = containerPorts(args.container);
    if (args.port === undefined) {
      process.stdout.write(ports.map((p) => `${p.containerPort}/${p.protocol} -> ${p.hostIp}:${p.hostPort}\n`).join(''));
      return;
    }
    const match = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(args.port);
    if (!match) throw new IsolaError('EUSAGE', `invalid port ${JSON.stringify(args.port)}: expected PRIVATE_PORT[/tcp|udp]`);
    const key = `${match[1]}/${match[2] ?? 'tcp'}`;
    const found = ports.filter((p) => `${p.containerPort}/${p.protocol}` === key);
    if (found.length === 0) throw new IsolaError('ENOTFOUND', `no public port '${key}' published for ${name}`);
    process.stdout.write(found.map((p) => `${p.hostIp}:${p.hostPort}\n`).join(''));
  }
}
