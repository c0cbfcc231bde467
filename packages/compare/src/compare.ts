// `isola compare`: a container and a microVM, run interleaved round by round on this host, and the
// medians of what each cost: start-up, memory, CPU, disk, and what each shares with the host.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { defaultImageLayout } from '@isola/engine';
import type { ExitCounts } from '@isola/hypervisor';
import { IsolaError } from '@isola/errors';
import { runContainer } from './container/run.js';
import { measureContainerMemory } from './container/memory.js';
import { compareGuests } from './guests.js';
import { runHostLoop } from './host/loop.js';
import { type LoopResult, type ProcessMemory, parseLoopLine } from './host/proc.js';
import { type ContainerIsolation, ISOLATION_PROBE, containerIsolation } from './isolation.js';
import { DEFAULT_LOOP_ITERATIONS, median, parseRounds } from './options.js';
import { measureVmMemory } from './vm/memory.js';
import { runGuest } from './vm/run.js';

/**
 * On the host and in the container the loop takes ~0.3 ms, so a preemption on this shared machine can
 * multiply it: each round keeps the fastest of this many timings there. In the VM it takes seconds.
 */
export const NATIVE_LOOP_RUNS = 5;

export const GUEST_NOTE = 'isola test guest (not Linux: KVM here is PVM, a Debian kernel needs ~2 min to its first line)';

export interface CompareOptions {
  rounds?: number;
  loopIterations?: number;
  /** isola's state directory, as for `isola run`. */
  root?: string;
}

export interface Startup {
  firstOutputMs: number;
  exitMs: number;
}

export interface CpuResult {
  iterations: number;
  tscCycles: number;
  ms: number;
  /** Cycles divided by the host's cycles for the same loop. */
  ratioToHost: number;
  /** Launch to exit of the run that timed the loop (a cross-check of the TSC figure; start-up included). */
  wallMs?: number;
}

export interface CompareReport {
  rounds: number;
  guest: string;
  startup: { container: Startup; vm: Startup };
  memory: { container: { monitor: ProcessMemory; workload: ProcessMemory }; vm: { vmm: ProcessMemory; guestMemoryMiB: number } };
  cpu: { host: CpuResult; container: CpuResult; vm: CpuResult; tscMHz: number };
  disk: { containerImageBytes: number; vmGuestBytes: number };
  isolation: {
    container: ContainerIsolation;
    vm: { guestPrinted: string; kernel: string; hostSyscalls: 'none'; exits: ExitCounts | undefined };
  };
}

function bytesUnder(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + bytesUnder(join(path, name)), 0);
}

function loopOf(output: string, where: string): LoopResult {
  const result = parseLoopLine(output);
  if (!result) throw new IsolaError('ECOMPARE', `${where}: printed no loop line: ${JSON.stringify(output.slice(0, 120))}`);
  return result;
}

export async function runCompare(options: CompareOptions = {}): Promise<CompareReport> {
  const rounds = parseRounds(options.rounds);
  const iterations = options.loopIterations ?? DEFAULT_LOOP_ITERATIONS;
  const { guest, loop } = await compareGuests();
  const volume = [`${dirname(loop)}:/isola-compare:ro`];
  const samples = { cStart: [] as number[], cExit: [] as number[], vStart: [] as number[], vExit: [] as number[], host: [] as LoopResult[], cLoop: [] as LoopResult[], vLoop: [] as LoopResult[] };
  let vmHello = '';
  let exits: ExitCounts | undefined;
  const wall = { container: [] as number[], vm: [] as number[] };
  // One uncounted round first: the first container imports the image and loads the runtime, the first
  // VM loads the vCPU worker; the medians are of warm runs, as users see them after their first.
  await runContainer({ command: ['true'], root: options.root });
  await runGuest(guest, '');
  for (let round = 0; round < rounds; round++) {
    const container = await runContainer({ command: ['echo', 'hello'], root: options.root });
    if (container.exitCode !== 0 || container.output !== 'hello\n') {
      throw new IsolaError('ECOMPARE', `the container printed ${JSON.stringify(container.output)} and exited ${container.exitCode}, not "hello" and 0`);
    }
    samples.cStart.push(container.firstByteMs);
    samples.cExit.push(container.exitMs);
    const vm = await runGuest(guest, '');
    if (vm.end.reason !== 'exit' || vm.end.status !== 42 || !vm.output.startsWith('hello')) {
      throw new IsolaError('ECOMPARE', `the guest printed ${JSON.stringify(vm.output)} and ended with ${JSON.stringify(vm.end)}`);
    }
    vmHello = vm.output.trim();
    exits = vm.counts;
    samples.vStart.push(vm.firstByteMs);
    samples.vExit.push(vm.exitMs);
    samples.host.push(await runHostLoop(loop, iterations, NATIVE_LOOP_RUNS));
    // Through sh: the engine looks the command up in the image before the -v mount is there.
    const containerLoop = await runContainer({ command: ['sh', '-c', `exec /isola-compare/loop ${iterations} ${NATIVE_LOOP_RUNS}`], volume, root: options.root });
    samples.cLoop.push(loopOf(containerLoop.output, 'the container'));
    wall.container.push(containerLoop.exitMs);
    const vmLoop = await runGuest(guest, `loop=${iterations}`);
    samples.vLoop.push(loopOf(vmLoop.output, 'the guest'));
    wall.vm.push(vmLoop.exitMs);
  }
  const hostCycles = median(samples.host.map((r) => r.tscCycles));
  const tscPerMs = median(samples.host.concat(samples.cLoop).map((r) => r.tscCycles / ((r.ns ?? 1) / 1e6)));
  const cpu = (results: LoopResult[], wallMs?: number[]): CpuResult => {
    const cycles = median(results.map((r) => r.tscCycles));
    return { iterations, tscCycles: cycles, ms: cycles / tscPerMs, ratioToHost: cycles / hostCycles, ...(wallMs ? { wallMs: median(wallMs) } : {}) };
  };
  const probe = await runContainer({ command: ISOLATION_PROBE, root: options.root });
  return {
    rounds,
    guest: GUEST_NOTE,
    startup: {
      container: { firstOutputMs: median(samples.cStart), exitMs: median(samples.cExit) },
      vm: { firstOutputMs: median(samples.vStart), exitMs: median(samples.vExit) },
    },
    memory: { container: await measureContainerMemory(options.root), vm: await measureVmMemory(guest) },
    cpu: { host: cpu(samples.host), container: cpu(samples.cLoop, wall.container), vm: cpu(samples.vLoop, wall.vm), tscMHz: tscPerMs / 1000 },
    disk: { containerImageBytes: bytesUnder(defaultImageLayout()), vmGuestBytes: statSync(guest).size },
    isolation: {
      container: containerIsolation(probe.output),
      vm: { guestPrinted: vmHello, kernel: 'its own (the guest; the host kernel only runs KVM)', hostSyscalls: 'none', exits },
    },
  };
}

