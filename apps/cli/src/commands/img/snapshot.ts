import { Args, Flags } from '@oclif/core';
import { ImgCommand } from './base.js';

export default class ImgSnapshot extends ImgCommand {
  static override summary = 'List, create, apply or delete internal snapshots (qemu-img snapshot)';
  static override flags = {
    list: Flags.boolean({ char: 'l', description: 'list the snapshots', exclusive: ['create', 'apply', 'delete'] }),
    create: Flags.string({ char: 'c', description: 'take a snapshot with this name', exclusive: ['list', 'apply', 'delete'] }),
    apply: Flags.string({ char: 'a', description: 'revert the disk to this snapshot (name or ID)', exclusive: ['list', 'create', 'delete'] }),
    delete: Flags.string({ char: 'd', description: 'delete this snapshot (name or ID)', exclusive: ['list', 'create', 'apply'] }),
    format: Flags.string({ char: 'f', description: 'qcow2' }),
    quiet: Flags.boolean({ char: 'q' }),
  };
  static override args = { filename: Args.string({ required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ImgSnapshot);
    const { snapshot, formatSnapshotList } = await import('@isola/qcow2');
    const action = flags.create !== undefined ? { create: flags.create } : flags.apply !== undefined ? { apply: flags.apply } : flags.delete !== undefined ? { delete: flags.delete } : { list: true as const };
    const list = await snapshot(args.filename, action);
    if ('list' in action) process.stdout.write(formatSnapshotList(list));
  }
}
