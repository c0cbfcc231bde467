// Hands the arguments to oclif, and turns every failure into one line on stderr and an exit status.
import { flush, run as runOclif } from '@oclif/core';
import { reportError } from './errors.js';

export async function run(args: string[], binUrl: string): Promise<void> {
  try {
    await runOclif(args, binUrl);
    await flush();
  } catch (error) {
    process.exitCode = reportError(error);
  }
}
