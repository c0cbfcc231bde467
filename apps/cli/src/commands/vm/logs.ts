// `isola vm logs [-f]`: a detached VM's serial console output.
import { Args, Flags } from '@oclif/core';
import { IsolaCommand } from '../../base.js';

export default class VmLogs extends IsolaCommand {
  static override summary = "Show a microVM's serial console output";
  static override args = { vm: Args.string({ required: true, description: 'VM name or id' }) };
  static override flags = {
    follow: Flags.boolean({ char: 'f', description: 'keep showing new output until the VM stops' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(VmLogs);
    const { vmLogs } = await import('@isola/hypervisor');
    await vmLogs(args.vm, { follow: flags.follow, write: (bytes) => process.stdout.write(bytes) });
  }
}
