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
    // (A flag's value that its parser refused comes as that parser's error, its message prefixed by oclif.)
    if ((error as { parse?: unknown }).parse !== undefined || error.message.startsWith('Parsing --')) {
      process.stderr.write(`Error: ${usageLine(error)}\nSee 'isola ${(this.id ?? '').replaceAll(':', ' ')} --help'.\n`);
      process.exitCode = 2;
      this.parsed = true; // it was parsed, and rejected: no "did not parse its arguments" warning
      return;
    }
    process.exitCode = reportError(error);
  }
}

/**
 * An oclif parse error in one line, with what its later lines said: "Missing 2 required args: source,
 * target" (not a bare "Missing 2 required args:"), "Parsing --count: Expected an integer but received: abc".
 */
export function usageLine(error: Error & { args?: Array<{ name?: string }> }): string {
  const lines = stripVTControlCharacters(error.message).split('\n').map((line) => line.trim());
  const first = lines[0]!.replace(/:$/, '');
  if (/^Missing \d+ required args?/.test(first) && Array.isArray(error.args)) {
    return `${first}: ${error.args.map((arg) => arg.name).filter(Boolean).join(', ')}`;
  }
  const rest = lines.slice(1).filter((line) => line !== '' && line !== 'See more help with --help' && !line.startsWith('Note:') && !line.startsWith('Alternatively,'));
  return rest.length > 0 ? `${first}: ${rest.join('; ')}` : first;
}
