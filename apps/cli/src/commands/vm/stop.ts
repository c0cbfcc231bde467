// `isola vm stop`: a power-off request for the guest (Ctrl+Alt+Del through the monitor), then kill after the timeout.
import { Args, Flags } from '@oclif/core';
import { IsolaCommand } from '../../base.js';

export default class VmStop extends IsolaCommand {
  static override summary = 'Stop one or more microVMs (Ctrl+Alt+Del for the guest through its monitor, SIGKILL after --time seconds)';
  static override strict = false;
  static override args = { vm: Args.string({ required: true, description: 'VM name or id (several may be given)' }) };
  static override flags = {
    time: Flags.integer({ char: 't', default: 10, min: 0, description: 'seconds to wait before killing the VM monitor' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(VmStop);
    const { stopVm } = await import('@isola/hypervisor');
    for (const ref of argv as string[]) {
      await stopVm(ref, { timeoutMs: flags.time * 1000 });
      process.stdout.write(`${ref}\n`);
    }
  }
}
