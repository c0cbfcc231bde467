import { Args, Flags } from '@oclif/core';
import { IsolaCommand } from '../../base.js';

export default class VolumeCreate extends IsolaCommand {
  static override summary = 'Create a named volume (a random name when none is given) and print its name';
  static override args = { name: Args.string({ description: 'volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)' }) };
  static override flags = { label: Flags.string({ char: 'l', multiple: true, multipleNonGreedy: true, description: 'set a label (KEY=VALUE)' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(VolumeCreate);
    const labels = Object.fromEntries((flags.label ?? []).map((l) => [l.split('=')[0]!, l.includes('=') ? l.slice(l.indexOf('=') + 1) : '']));
    const { createVolume } = await import('@isola/engine');
    process.stdout.write(`${await createVolume(args.name, { labels })}\n`);
  }
}
