// `isola vm run`: the console attached to this terminal, or with -d a monitor process that outlives
// the CLI (state in $ISOLA_ROOT/vms/<id>/; see `isola vm ls`, `logs`, `stop`, `rm`).
import { Flags } from '@oclif/core';
import { IsolaCommand } from '../../base.js';

export default class VmRun extends IsolaCommand {
  static override summary = 'Run a microVM with its serial console on this terminal';
  static override description =
    'Boots a Linux kernel (--kernel: an ELF vmlinux, through PVH when it has the note, else the 64-bit boot protocol; or a bzImage), ' +
    'an ELF with a PVH note, or a flat test binary (--flat) under KVM, with ACPI tables and --cpus vCPUs. With -d the VM runs detached ' +
    'and its serial output goes to a log (`isola vm logs`). ' +
    'The guest serial port (COM1) is attached to stdin/stdout; the command ends when the guest does, with the ' +
    "status the guest wrote to the debug-exit port (0x501), 0 on a reset or power-off, 130 on Ctrl-C.";
  static override flags = {
    kernel: Flags.string({ description: 'Linux kernel (ELF vmlinux or bzImage), or an ELF with a PVH entry note', exactlyOne: ['kernel', 'flat'] }),
    initrd: Flags.string({ description: 'initial ramdisk (Linux 64-bit boot protocol: a bzImage, or a vmlinux with --boot linux64)' }),
    boot: Flags.string({ description: 'how to enter an ELF kernel: pvh or linux64 (default: pvh when it has the note)', options: ['pvh', 'linux64'] }),
    detach: Flags.boolean({ char: 'd', description: 'run in the background; print the VM id' }),
    name: Flags.string({ description: 'name of a detached VM' }),
    flat: Flags.string({ description: 'flat binary, loaded at 0x8000 and started in real mode', exactlyOne: ['kernel', 'flat'] }),
    cmdline: Flags.string({ description: 'kernel command line', default: 'console=ttyS0' }),
    mem: Flags.integer({ description: 'guest memory in MiB', default: 256, min: 2 }),
    cpus: Flags.integer({ description: 'number of vCPUs (vCPU 0 boots; the others wait for INIT/SIPI)', default: 1, min: 1, max: 254 }),
    disk: Flags.string({ multiple: true, description: 'virtio-blk disk (qcow2 or raw): PATH[,ro][,format=qcow2|raw][,id=NAME]; repeat for more' }),
    rng: Flags.boolean({ description: 'add a virtio-rng device fed from the host RNG', default: false }),
    'trace-mmio': Flags.boolean({ description: 'print each MMIO access to stderr (with -d: to the VM log) with the instruction that made it', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(VmRun);
    if (flags.name !== undefined && !flags.detach) this.error('--name: only with -d (a detached VM has a name)', { exit: 2 });
    if (flags.detach) {
      const { startDetachedVm, parseDiskSpec } = await import('@isola/hypervisor');
      const disks = (flags.disk ?? []).map(parseDiskSpec);
      const vm = await startDetachedVm({ name: flags.name, memoryMiB: flags.mem, cpus: flags.cpus, kernel: flags.kernel, flat: flags.flat, initrd: flags.initrd, cmdline: flags.cmdline, boot: flags.boot as 'pvh' | 'linux64' | undefined, disks, rng: flags.rng, traceMmio: flags['trace-mmio'] });
      process.stdout.write(`${vm.id}\n`);
      return;
    }
    // Loaded here: `isola --help` must not pay for koffi and the vCPU worker.
    const { createVm, parseDiskSpec } = await import('@isola/hypervisor');
    const disks = (flags.disk ?? []).map(parseDiskSpec);
    const vm = await createVm({
      memoryMiB: flags.mem,
      cpus: flags.cpus,
      kernel: flags.kernel,
      flat: flags.flat,
      initrd: flags.initrd,
      boot: flags.boot as 'pvh' | 'linux64' | undefined,
      cmdline: flags.cmdline,
      console: process.stdout,
      disks,
      rng: flags.rng,
      traceMmio: flags['trace-mmio'],
      // The guest broke a device's protocol; the device waits for a reset, the VM goes on.
      onDeviceError: (device, reason) => process.stderr.write(`isola: ${device}: ${reason} (the device needs a reset)\n`),
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
