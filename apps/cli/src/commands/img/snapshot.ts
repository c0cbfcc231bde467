import { Args, Flags } from '@oclif/core';
import { ImgCommand, badOption } from './base.js';

export default class ImgSnapshot extends ImgCommand {
  static override summary = 'List, create, apply or delete internal snapshots (qemu-img snapshot)';
  static override flags = {
    list: Flags.boolean({ char: 'l', description: 'list the snapshots' }),
    create: Flags.string({ char: 'c', description: 'take a snapshot with this name' }),
    apply: Flags.string({ char: 'a', description: 'revert the disk to this snapshot (name or ID)' }),
    delete: Flags.string({ char: 'd', description: 'delete this snapshot (name or ID)' }),
    format: Flags.string({ char: 'f', description: 'qcow2' }),
    quiet: Flags.boolean({ char: 'q' }),
  };
  static override args = { filename: Args.string({ required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ImgSnapshot);
    // Checked here rather than with oclif's `exclusive`, whose message spans several lines.
    const given = (['list', 'create', 'apply', 'delete'] as const).filter((name) => flags[name] !== undefined && flags[name] !== false);
    if (given.length > 1) throw badOption(`snapshot: cannot mix ${given.map((name) => `--${name}`).join(' and ')} (one of -l, -c, -a, -d)`);
    const { snapshot, formatSnapshotList } = await import('@isola/qcow2');
    const action = flags.create !== undefined ? { create: flags.create } : flags.apply !== undefined ? { apply: flags.apply } : flags.delete !== undefined ? { delete: flags.delete } : { list: true as const };
    const list = await snapshot(args.filename, action);
    if ('list' in action) process.stdout.write(formatSnapshotList(list));
  }
}
