// `isola vm run`: attached console only so far; -d, ls, stop, rm and logs need a VM state directory
// and a monitor process that outlives the CLI.
import { Flags } from '@oclif/core';
import { IsolaCommand } from '../../base.js';

export default class VmRun extends IsolaCommand {
  static override summary = 'Run a microVM with its serial console on this terminal';
  static override description =
    'Boots a PVH ELF kernel (--kernel, e.g. an uncompressed vmlinux) or a flat test binary (--flat) under KVM. ' +
    'The guest serial port (COM1) is attached to stdin/stdout; the command ends when the guest does, with the ' +
    "status the guest wrote to the debug-exit port (0x501), 0 on a reset or power-off, 130 on Ctrl-C.";
  static override flags = {
    kernel: Flags.string({ description: 'ELF kernel with a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)', exactlyOne: ['kernel', 'flat'] }),
    flat: Flags.string({ description: 'flat binary, loaded at 0x8000 and started in real mode', exactlyOne: ['kernel', 'flat'] }),
    cmdline: Flags.string({ description: 'kernel command line', default: 'console=ttyS0' }),
    mem: Flags.integer({ description: 'guest memory in MiB', default: 256, min: 2 }),
    cpus: Flags.integer({ description: 'number of vCPUs (only 1 so far)', default: 1, min: 1 }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(VmRun);
    // Loaded here: `isola --help` must not pay for koffi and the vCPU worker.
    const { createVm } = await import('@isola/hypervisor');
    const vm = await createVm({
      memoryMiB: flags.mem,
      cpus: flags.cpus,
      kernel: flags.kernel,
      flat: flags.flat,
      cmdline: flags.cmdline,
      console: process.stdout,
    });
    await vm.start();
    const stdin = process.stdin;
    if (stdin.isTTY) stdin.setRawMode(true);
    const forward = (chunk: Buffer) => {
      // Ctrl-] detaches (stops the VM), as telnet and virsh console do; Ctrl-C goes to the guest in raw mode.
      if (chunk.includes(0x1d)) void vm.stop();
      else vm.input(new Uint8Array(chunk));
    };
    stdin.on('data', forward);
    const onSignal = () => void vm.stop();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const end = await vm.wait();
      process.exitCode = end.reason === 'exit' ? end.status : end.reason === 'stopped' ? 130 : 0;
    } finally {
      stdin.off('data', forward);
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
