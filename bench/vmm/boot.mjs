// Boots one guest-kit guest under isola with its serial console on stdout, and exits with the guest's
// debug-exit status: the isola side of bench/vmm/run.mjs (one process per launch, as QEMU is).
// With ISOLA_BENCH_PHASES=1 it also writes, as the last line on stderr, when each phase of the launch
// ended, in ms since the process started: Node's own bootstrap, importing @isola/hypervisor (koffi
// included), createVm (KVM setup, ELF load, the vCPU worker spawned), start (the worker has loaded and
// taken its vCPU) and the guest's first serial byte.
//   node bench/vmm/boot.mjs <path> [flat|pvh]
const phases = process.env.ISOLA_BENCH_PHASES === '1';
const at = () => performance.now();
const marks = { node: performance.nodeTiming.bootstrapComplete };
const { createVm } = await import('@isola/hypervisor');
marks.import = at();

const [path, kind = 'pvh'] = process.argv.slice(2);
const sink = phases
  ? (bytes) => {
      marks.firstByte ??= at();
      process.stdout.write(bytes);
    }
  : process.stdout;
const vm = await createVm({ memoryMiB: 16, [kind === 'flat' ? 'flat' : 'kernel']: path, cmdline: 'console=ttyS0', console: sink });
marks.createVm = at();
await vm.start();
marks.start = at();
const end = await vm.wait();
process.exitCode = end.reason === 'exit' ? end.status : 1;
if (phases) process.stderr.write(`${JSON.stringify(marks)}\n`);
