import { Args } from '@oclif/core';
import { IsolaCommand } from '../base.js';

export default class Start extends IsolaCommand {
  static override summary = 'Start created containers';
  static override strict = false;
  static override args = { container: Args.string({ required: true, description: 'container name or id' }) };

  async run(): Promise<void> {
    const { argv } = await this.parse(Start);
    const { startContainers } = await import('@isola/engine');
    await startContainers(argv as string[]);
    process.stdout.write(`${(argv as string[]).join('\n')}\n`);
  }
}
