import { Flags } from '@oclif/core';
import { IsolaCommand } from '../base.js';

export default class Ps extends IsolaCommand {
  static override summary = 'List containers (running ones; -a for all)';
  static override flags = {
    all: Flags.boolean({ char: 'a', description: 'show all containers, not only running ones' }),
    quiet: Flags.boolean({ char: 'q', description: 'only print container ids' }),
    format: Flags.string({ description: '"table" (default) or "json" (one object per line, as docker)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Ps);
    if (flags.format !== undefined && flags.format !== 'json' && flags.format !== 'table') this.error(`--format: only "table" and "json" are supported`, { exit: 2 });
    const { listContainers, psTable } = await import('@isola/engine');
    const rows = await listContainers({ all: flags.all });
    if (flags.quiet) process.stdout.write(rows.map((r) => `${r.ID}\n`).join(''));
    else if (flags.format === 'json') process.stdout.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    else process.stdout.write(`${psTable(rows)}\n`);
  }
}
