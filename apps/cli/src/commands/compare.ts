// `isola compare`: a container and a microVM run side by side on this host, and what each cost.
import { Flags } from '@oclif/core';
import { IsolaCommand } from '../base.js';

export default class Compare extends IsolaCommand {
  static override summary = 'Measure containers and microVMs side by side on this host';
  static override description =
    'Runs, interleaved, N rounds of a busybox container (run --rm --network none) and of a small microVM guest, and prints the ' +
    'medians: start-up (launch to first output, launch to exit), memory per sandbox, the same CPU loop on the host, in the ' +
    'container and in the guest, disk footprint, and what each shares with the host. Needs root, /dev/kvm and gcc (the guest ' +
    'is built on first use).';
  static override flags = {
    rounds: Flags.string({ description: 'rounds to run (1-100)', default: '5' }),
    json: Flags.boolean({ description: 'print the measurements as JSON' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Compare);
    // Loaded here: `isola --help` must not pay for koffi, the engine and the hypervisor.
    const { formatCompare, parseRounds, runCompare } = await import('@isola/compare');
    let rounds: number;
    try {
      rounds = parseRounds(flags.rounds);
    } catch (error) {
      this.error((error as Error).message, { exit: 2 });
    }
    const report = await runCompare({ rounds });
    process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatCompare(report)}\n`);
  }
}
