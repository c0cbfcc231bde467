// `isola vm rm [-f]`: delete stopped VMs (running ones too with -f).
import { Args, Flags } from '@oclif/core';
import { IsolaCommand } from '../../base.js';

export default class VmRm extends IsolaCommand {
  static override summary = 'Remove one or more microVMs';
  static override strict = false;
  static override args = { vm: Args.string({ required: true, description: 'VM name or id (several may be given)' }) };
  static override flags = {
    force: Flags.boolean({ char: 'f', description: 'kill a running VM first' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(VmRm);
    const { removeVm } = await import('@isola/hypervisor');
    for (const ref of argv as string[]) {
      await removeVm(ref, { force: flags.force });
      process.stdout.write(`${ref}\n`);
    }
  }
}
