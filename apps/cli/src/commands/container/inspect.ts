import { Args } from '@oclif/core';
import { IsolaCommand } from '../../base.js';

export default class ContainerInspect extends IsolaCommand {
  static override summary = 'Show low-level information on containers (docker inspect\'s JSON)';
  static override strict = false;
  static override args = { container: Args.string({ required: true, description: 'container name or id' }) };

  async run(): Promise<void> {
    const { argv } = await this.parse(ContainerInspect);
    const { inspectContainers } = await import('@isola/engine');
    process.stdout.write(`${JSON.stringify(await inspectContainers(argv as string[]), null, 4)}\n`);
  }
}
