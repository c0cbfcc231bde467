import { Args, Flags } from '@oclif/core';
import { IsolaCommand } from '../../base.js';

export default class VolumeRm extends IsolaCommand {
  static override summary = 'Remove volumes (not one a container uses)';
  static override strict = false;
  static override args = { volume: Args.string({ required: true, description: 'volume name' }) };
  static override flags = { force: Flags.boolean({ char: 'f', description: 'no error for a volume that does not exist' }) };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(VolumeRm);
    const { removeVolumes } = await import('@isola/engine');
    const removed = await removeVolumes(argv as string[], { force: flags.force });
    process.stdout.write(removed.map((n) => `${n}\n`).join(''));
  }
}
