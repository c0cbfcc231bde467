// What every isola command shares: errors go through reportError (one line, no stack) instead of
// oclif's default handler.
import { stripVTControlCharacters } from 'node:util';
import { Command } from '@oclif/core';
import { reportError } from './errors.js';

export abstract class IsolaCommand extends Command {
  override async init(): Promise<void> {
    // performance.now() counts from process start: this is the time spent before the command's own work.
    if (process.env.ISOLA_TIMING === '1') process.stderr.write(`isola-timing: ${this.id} starts at ${performance.now().toFixed(1)} ms\n`);
    await super.init();
  }

  protected override async catch(error: Error & { exitCode?: number }): Promise<void> {
    // Flag and argument parse errors are usage errors: status 2, as docker and podman use it.
    if ((error as { parse?: unknown }).parse !== undefined) {
      process.stderr.write(`Error: ${stripVTControlCharacters(error.message).split('\n')[0]}\nSee 'isola ${this.id ?? ''} --help'.\n`);
      process.exitCode = 2;
      this.parsed = true; // it was parsed, and rejected: no "did not parse its arguments" warning
      return;
    }
    process.exitCode = reportError(error);
  }
}
