import { Flags } from '@oclif/core';
import { IsolaCommand } from '../../base.js';

export default class NetworkLs extends IsolaCommand {
  static override summary = 'List networks';
  static override flags = {
    quiet: Flags.boolean({ char: 'q', description: 'only print network ids' }),
    'no-trunc': Flags.boolean({ description: 'print full ids' }),
    format: Flags.string({ description: '"table" (default) or "json" (one object per line, as docker)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(NetworkLs);
    if (flags.format !== undefined && flags.format !== 'json' && flags.format !== 'table') this.error('--format: only "table" and "json" are supported', { exit: 2 });
    const { listNetworks } = await import('@isola/engine');
    const rows = listNetworks();
    const id = (full: string) => (flags['no-trunc'] ? full : full.slice(0, 12));
    if (flags.quiet) process.stdout.write(rows.map((r) => `${id(r.id)}\n`).join(''));
    else if (flags.format === 'json') {
      process.stdout.write(rows.map((r) => `${JSON.stringify({
        CreatedAt: r.created, Driver: r.driver, ID: id(r.id), IPv6: 'false', Internal: 'false',
        Labels: Object.entries(r.labels).map(([k, v]) => `${k}=${v}`).join(','), Name: r.name, Scope: 'local',
      })}\n`).join(''));
    } else {
      const cells = [['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], ...rows.map((r) => [id(r.id), r.name, r.driver, 'local'])];
      const widths = [0, 1, 2].map((i) => Math.max(...cells.map((c) => c[i]!.length)) + 3);
      process.stdout.write(cells.map((c) => c.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('')).join('\n') + '\n');
    }
  }
}
