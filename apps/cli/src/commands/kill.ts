import { Args, Flags } from '@oclif/core';
import { IsolaCommand } from '../base.js';

export default class Kill extends IsolaCommand {
  static override summary = "Send a signal to running containers' init (SIGKILL by default)";
  static override strict = false;
  static override args = { container: Args.string({ required: true, description: 'container name or id' }) };
  static override flags = { signal: Flags.string({ char: 's', default: 'KILL', description: 'signal: a name (TERM, SIGTERM) or number' }) };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Kill);
    const { killContainers } = await import('@isola/engine');
    await killContainers(argv as string[], { signal: flags.signal });
    process.stdout.write(`${(argv as string[]).join('\n')}\n`);
  }
}
