import { Args, Flags } from '@oclif/core';
import { IsolaCommand } from '../base.js';

export default class Rm extends IsolaCommand {
  static override summary = 'Remove containers, with their rootfs, cgroup and logs';
  static override strict = false;
  static override args = { container: Args.string({ required: true, description: 'container name or id' }) };
  static override flags = {
    force: Flags.boolean({ char: 'f', description: 'kill running containers first' }),
    volumes: Flags.boolean({ char: 'v', description: 'remove the anonymous volumes the containers made (-v /path)' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Rm);
    const { removeContainers } = await import('@isola/engine');
    await removeContainers(argv as string[], { force: flags.force, volumes: flags.volumes });
    process.stdout.write(`${(argv as string[]).join('\n')}\n`);
  }
}
