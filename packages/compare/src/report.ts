// The table `isola compare` prints: one row per measure, the container's and the VM's value side by side.
import { type CompareReport, NATIVE_LOOP_RUNS } from './compare.js';

const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
const kib = (value: number) => (value >= 10240 ? `${(value / 1024).toFixed(1)} MiB` : `${value} KiB`);
const bytes = (value: number) => (value >= 1 << 20 ? `${(value / (1 << 20)).toFixed(2)} MiB` : `${(value / 1024).toFixed(1)} KiB`);
const ratio = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(0)}x`;

export function formatCompare(report: CompareReport): string {
  const { startup, memory, cpu, disk, isolation } = report;
  const c = isolation.container;
  const rows: Array<[string, string, string]> = [
    ['start-up: launch → first output', ms(startup.container.firstOutputMs), ms(startup.vm.firstOutputMs)],
    ['start-up: launch → exit', ms(startup.container.exitMs), ms(startup.vm.exitMs)],
    ['memory: host process per sandbox (RSS / PSS)', `monitor ${kib(memory.container.monitor.rssKiB)} / ${kib(memory.container.monitor.pssKiB)}`, `VMM ${kib(memory.vm.vmm.rssKiB)} / ${kib(memory.vm.vmm.pssKiB)}`],
    ['memory: workload', `sleep ${kib(memory.container.workload.rssKiB)} RSS`, `guest RAM ${memory.vm.guestMemoryMiB} MiB`],
    [`cpu: ${cpu.host.iterations} loop iterations (host ${ms(cpu.host.ms)})`, `${ms(cpu.container.ms)} (${ratio(cpu.container.ratioToHost)} host)`, `${ms(cpu.vm.ms)} (${ratio(cpu.vm.ratioToHost)} host)`],
    ['disk: image / guest', `busybox ${bytes(disk.containerImageBytes)} (rootfs ${kib(c.rootfsKiB)})`, `guest ELF ${bytes(disk.vmGuestBytes)}`],
    ['isolation: kernel', c.kernel === c.hostKernel ? `host's (${c.kernel})` : c.kernel, isolation.vm.kernel],
    ['isolation: namespaces own / shared', `${c.ownNamespaces.join(',')} / ${c.sharedNamespaces.join(',') || '-'}`, 'n/a (no host processes)'],
    ['isolation: syscalls to the host kernel', `all, filtered: seccomp ${c.seccomp ? 'on' : 'off'}, ${c.capabilities} capabilities`, `none: ${exitsText(report)}`],
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i].length), ['', 'container', 'microVM'][i].length));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd();
  return [
    `isola compare: medians of ${report.rounds} interleaved round${report.rounds === 1 ? '' : 's'}`,
    'container: busybox (isola run --rm --network none); microVM: isola vm run',
    `CPU loop: the same machine code (tools/guest-kit/compare/spin.S), TSC-timed; host and container: fastest of ${NATIVE_LOOP_RUNS} per round`,
    `guest: ${report.guest}`,
    '',
    line(['', 'container', 'microVM']),
    ...rows.map(line),
  ].join('\n');
}

function exitsText(report: CompareReport): string {
  const exits = report.isolation.vm.exits;
  return exits ? `${exits.io} port I/O + ${exits.mmio} MMIO exits handled by the VMM` : 'device exits only, handled by the VMM';
}
