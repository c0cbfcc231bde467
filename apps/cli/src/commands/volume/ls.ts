import { Flags } from '@oclif/core';
import { IsolaCommand } from '../../base.js';

export default class VolumeLs extends IsolaCommand {
  static override summary = 'List volumes';
  static override flags = {
    quiet: Flags.boolean({ char: 'q', description: 'only print volume names' }),
    format: Flags.string({ description: '"table" (default) or "json" (one object per line, as docker)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(VolumeLs);
    if (flags.format !== undefined && flags.format !== 'json' && flags.format !== 'table') this.error('--format: only "table" and "json" are supported', { exit: 2 });
    const { listVolumes } = await import('@isola/engine');
    const volumes = await listVolumes();
    if (flags.quiet) process.stdout.write(volumes.map((v) => `${v.Name}\n`).join(''));
    else if (flags.format === 'json') {
      process.stdout.write(volumes.map((v) => `${JSON.stringify({ Driver: v.Driver, Labels: Object.entries(v.Labels).map(([k, x]) => `${k}=${x}`).join(','), Links: String(v.UsedBy.length), Mountpoint: v.Mountpoint, Name: v.Name, Scope: v.Scope, Size: 'N/A' })}\n`).join(''));
    } else process.stdout.write(['DRIVER    VOLUME NAME', ...volumes.map((v) => `${v.Driver.padEnd(10)}${v.Name}`)].join('\n') + '\n');
  }
}
