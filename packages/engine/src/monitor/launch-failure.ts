// Why a container's launcher (launch.ts) ended without reporting, from what it left on its stderr.
// Node prints an uncaught error as the source line, a caret, a blank line, then `TypeError: ...`
// and the stack; a failure to load prints `Error: Cannot find module ...`. The line that names the
// error is the reason; without one, the last line that is not a stack frame.

/** The one line of `stderr` that says why the launcher failed, or undefined when it said nothing. */
export function launcherFailureReason(stderr: string): string | undefined {
  const lines = stderr.split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('isola-timing:'));
  const named = lines.find((line) => /^(?:[A-Z][A-Za-z]*)?Error(?: \[[A-Z_]+\])?: /.test(line) || /^Uncaught /.test(line));
  const reason = named ?? lines.filter((line) => !/^at /.test(line) && line !== '^').at(-1);
  return reason === undefined ? undefined : reason.length > 300 ? `${reason.slice(0, 300)}…` : reason;
}

/** How the launcher ended: its exit status, or the signal that killed it. */
export function describeEnd(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `ended (status ${code ?? 'unknown'})`;
}
