// Hands the arguments to oclif, and turns every failure into one line on stderr and an exit status.
import { flush, run as runOclif } from '@oclif/core';
import { reportError } from './errors.js';
import { oneCommandOptions } from './one-command.js';

export async function run(args: string[], binUrl: string): Promise<void> {
  try {
    await runOclif(args, oneCommandOptions(args, binUrl) ?? binUrl);
    await flush();
  } catch (error) {
    process.exitCode = reportError(error);
  }
}
