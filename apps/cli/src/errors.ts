// The one place where failures become what the user sees: a single line naming the thing and the reason,
// and an exit status. Stack traces only with ISOLA_DEBUG=1.
import { stripVTControlCharacters } from 'node:util';
import { describeError, isIsolaError } from '@isola/errors';

/** Exit statuses as docker and podman use them: 125 when isola itself failed, 2 for usage errors. */
export const EXIT = { failure: 125, usage: 2, cannotInvoke: 126, notFound: 127 } as const;

interface OclifLikeError {
  oclif?: { exit?: number };
  code?: string;
}

export function exitStatusFor(error: unknown): number {
  if (isIsolaError(error)) return EXIT.failure;
  const oclif = (error as OclifLikeError)?.oclif;
  // oclif's own exit(n) travels as an error carrying the status.
  if (oclif?.exit !== undefined) return oclif.exit;
  return EXIT.failure;
}

/** Prints the error for a person and returns the exit status to use. */
export function reportError(error: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  const status = exitStatusFor(error);
  const code = (error as OclifLikeError)?.code;
  if (code === 'EEXIT') return status;
  let message = stripVTControlCharacters(describeError(error)).replace(/^Error: /, '');
  const unknown = /^command (\S+) not found/.exec(message);
  if (unknown) message = `unknown command "${unknown[1]!.replace(/:/g, ' ')}"\nSee 'isola --help'.`;
  stderr.write(`Error: ${message}\n`);
  if (process.env.ISOLA_DEBUG === '1' && error instanceof Error && error.stack) stderr.write(`${error.stack}\n`);
  return status;
}
