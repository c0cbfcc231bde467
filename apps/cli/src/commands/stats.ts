import { Args, Flags } from '@oclif/core';
import { IsolaCommand } from '../base.js';

export default class Stats extends IsolaCommand {
  static override summary = "Show containers' resource usage (CPU, memory, block I/O, pids), from their cgroups";
  static override strict = false;
  static override args = { container: Args.string({ description: 'container name or id (default: every running one)' }) };
  static override flags = {
    all: Flags.boolean({ char: 'a', description: 'show all containers, not only running ones' }),
    'no-stream': Flags.boolean({ description: 'print one reading and exit' }),
    format: Flags.string({ description: '"table" (default) or "json" (one object per line, as docker)' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Stats);
    if (flags.format !== undefined && flags.format !== 'json' && flags.format !== 'table') this.error('--format: only "table" and "json" are supported', { exit: 2 });
    const { containerStats, statsTable } = await import('@isola/engine');
    const stream = !flags['no-stream'];
    for await (const rows of containerStats(argv as string[], { all: flags.all, stream })) {
      const text = flags.format === 'json' ? rows.map((r) => `${JSON.stringify(r)}\n`).join('') : `${statsTable(rows)}\n`;
      // Streaming to a terminal redraws in place, as docker does.
      process.stdout.write(stream && process.stdout.isTTY ? `\x1b[2J\x1b[H${text}` : text);
    }
  }
}
