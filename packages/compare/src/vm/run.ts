// One microVM through @isola/hypervisor: compare/guest.c (a PVH ELF) with its serial output timed.
import { createVm, type ExitCounts, type VmExit } from '@isola/hypervisor';

export const GUEST_MEMORY_MIB = 16;

export interface VmRun {
  /** Milliseconds from launch (createVm) to the first serial byte, and to the guest's end. */
  firstByteMs: number;
  exitMs: number;
  output: string;
  end: VmExit;
  counts: ExitCounts | undefined;
}

export async function runGuest(guest: string, cmdline: string): Promise<VmRun> {
  const chunks: Buffer[] = [];
  let firstByte = Number.NaN;
  const start = performance.now();
  const vm = await createVm({
    memoryMiB: GUEST_MEMORY_MIB,
    kernel: guest,
    cmdline,
    console: (bytes) => {
      if (chunks.length === 0) firstByte = performance.now();
      chunks.push(Buffer.from(bytes));
    },
  });
  await vm.start();
  const end = await vm.wait();
  const exit = performance.now();
  return { firstByteMs: firstByte - start, exitMs: exit - start, output: Buffer.concat(chunks).toString('utf8'), end, counts: vm.counts };
}
