import { Flags } from '@oclif/core';
import { IsolaCommand } from '../base.js';

export default class Doctor extends IsolaCommand {
  static override summary = 'Report what isola can use on this host';
  static override description =
    'Kernel, namespaces, cgroup mode and controllers, overlayfs, /dev/kvm with a measured guest speed, capabilities, ' +
    'resource limits and optional host tools. Exits non-zero only when something essential is missing.';
  static override flags = {
    json: Flags.boolean({ description: 'print the report as JSON' }),
    'no-measure': Flags.boolean({ description: 'skip running a guest to measure KVM speed' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Doctor);
    // Loaded here, not at the top: `isola --help` and other commands need not pay for koffi and the probes.
    const { formatReport, runDoctor } = await import('@isola/doctor');
    const report = runDoctor({ measureKvm: !flags['no-measure'], version: this.config.version });
    process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
    if (!report.ok) process.exitCode = 1;
  }
}
