// One line of the doctor's report: what was probed, how it stands, and whether isola cannot work without it.

export type CheckStatus = 'ok' | 'warn' | 'missing';

export interface Check<T = unknown> {
  status: CheckStatus;
  /** isola cannot run containers without it: a missing essential makes `isola doctor` exit non-zero. */
  essential: boolean;
  /** One line for people. */
  summary: string;
  /** Structured facts for `--json`. */
  details: T;
}

export function check<T>(status: CheckStatus, essential: boolean, summary: string, details: T): Check<T> {
  return { status, essential, summary, details };
}

/** Runs a probe; a probe that throws becomes a `missing` check carrying the error's message. */
export function guarded<T>(essential: boolean, probe: () => Check<T>): Check<T | { error: string }> {
  try {
    return probe();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return check('missing', essential, message, { error: message });
  }
}
