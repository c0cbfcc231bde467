import { Flags } from '@oclif/core';
import { IsolaCommand } from '../../base.js';

export default class VolumePrune extends IsolaCommand {
  static override summary = 'Remove the anonymous volumes no container uses (-a: every unused volume)';
  static override flags = {
    all: Flags.boolean({ char: 'a', description: 'named volumes too' }),
    force: Flags.boolean({ char: 'f', description: 'accepted for docker compatibility: isola does not ask' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(VolumePrune);
    const { pruneVolumes } = await import('@isola/engine');
    const removed = await pruneVolumes({ all: flags.all });
    process.stdout.write(removed.length ? `Deleted Volumes:\n${removed.map((n) => `${n}\n`).join('')}` : '');
  }
}
