import { Args, Flags } from '@oclif/core';
import { IsolaCommand } from '../base.js';

export default class Logs extends IsolaCommand {
  static override summary = "Show a container's output";
  static override args = { container: Args.string({ required: true, description: 'container name or id' }) };
  static override flags = {
    follow: Flags.boolean({ char: 'f', description: 'keep showing new output until the container exits' }),
    tail: Flags.string({ char: 'n', default: 'all', description: 'number of lines from the end (or "all")' }),
    timestamps: Flags.boolean({ char: 't', description: 'show when each line was written' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Logs);
    if (flags.tail !== 'all' && !/^\d+$/.test(flags.tail)) this.error(`--tail: expected a number or "all", not ${JSON.stringify(flags.tail)}`, { exit: 2 });
    const { containerLogs } = await import('@isola/engine');
    await containerLogs(args.container, {
      follow: flags.follow, timestamps: flags.timestamps, tail: flags.tail === 'all' ? undefined : Number(flags.tail),
      write: (stream, text) => (stream === 'stdout' ? process.stdout : process.stderr).write(text),
    });
  }
}
