// `isola vm ls`: the VMs isola knows, running or stopped.
import { Flags } from '@oclif/core';
import { IsolaCommand } from '../../base.js';

export default class VmLs extends IsolaCommand {
  static override summary = 'List microVMs started with `isola vm run -d`';
  static override flags = {
    quiet: Flags.boolean({ char: 'q', description: 'only print VM ids' }),
    all: Flags.boolean({ char: 'a', description: 'accepted for docker ps habits: stopped VMs are always listed' }),
    format: Flags.string({ description: '"table" (default) or "json" (one object per line: id, name, state, cpus, mem, kernel, created)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(VmLs);
    if (flags.format !== undefined && flags.format !== 'json' && flags.format !== 'table') this.error('--format: only "table" and "json" are supported', { exit: 2 });
    const { listVms, vmTable } = await import('@isola/hypervisor');
    const rows = listVms();
    if (flags.quiet) process.stdout.write(rows.map((r) => `${r.id.slice(0, 12)}\n`).join(''));
    else if (flags.format === 'json') process.stdout.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    else process.stdout.write(`${vmTable(rows)}\n`);
  }
}
