// Boots one guest-kit guest under isola with its serial console on stdout, and exits with the guest's
// debug-exit status: the isola side of bench/vmm/run.mjs (one process per launch, as QEMU is).
//   node bench/vmm/boot.mjs <path> [flat|pvh]
import { createVm } from '@isola/hypervisor';

const [path, kind = 'pvh'] = process.argv.slice(2);
const vm = await createVm({ memoryMiB: 16, [kind === 'flat' ? 'flat' : 'kernel']: path, cmdline: 'console=ttyS0', console: process.stdout });
await vm.start();
const end = await vm.wait();
process.exitCode = end.reason === 'exit' ? end.status : 1;
