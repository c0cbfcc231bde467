import { Args, Flags } from '@oclif/core';
import { IsolaCommand } from '../base.js';

export default class Stop extends IsolaCommand {
  static override summary = 'Stop running containers: SIGTERM, then SIGKILL after a timeout';
  static override strict = false;
  static override args = { container: Args.string({ required: true, description: 'container name or id' }) };
  static override flags = { time: Flags.integer({ char: 't', default: 10, min: 0, description: 'seconds to wait before SIGKILL' }) };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Stop);
    const { stopContainers } = await import('@isola/engine');
    await stopContainers(argv as string[], { timeout: flags.time });
    process.stdout.write(`${(argv as string[]).join('\n')}\n`);
  }
}
