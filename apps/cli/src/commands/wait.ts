import { Args } from '@oclif/core';
import { IsolaCommand } from '../base.js';

export default class Wait extends IsolaCommand {
  static override summary = 'Wait until containers exit, and print their exit codes';
  static override strict = false;
  static override args = { container: Args.string({ required: true, description: 'container name or id' }) };

  async run(): Promise<void> {
    const { argv } = await this.parse(Wait);
    const { waitContainers } = await import('@isola/engine');
    const codes = await waitContainers(argv as string[]);
    process.stdout.write(`${codes.join('\n')}\n`);
  }
}
