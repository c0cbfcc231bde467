import { Args } from '@oclif/core';
import { IsolaCommand } from '../../base.js';

export default class VolumeInspect extends IsolaCommand {
  static override summary = 'Show volumes as docker volume inspect does';
  static override strict = false;
  static override args = { volume: Args.string({ required: true, description: 'volume name' }) };

  async run(): Promise<void> {
    const { argv } = await this.parse(VolumeInspect);
    const { inspectVolumes } = await import('@isola/engine');
    const volumes = (await inspectVolumes(argv as string[])).map(({ UsedBy: _used, Anonymous: _anonymous, ...docker }) => docker);
    process.stdout.write(`${JSON.stringify(volumes, null, 4)}\n`);
  }
}
