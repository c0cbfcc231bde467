// The base error of every isola package. `code` is stable and machine-readable (the CLI maps it to an
// exit status in one place); `message` is one line a person can act on; `cause` links the layers, so a
// failure reads from the user's intent down to the errno.

export interface IsolaErrorOptions {
  cause?: unknown;
  /** Extra structured facts (paths, syscall names, offsets) for `--log-format json` and tests. */
  details?: Record<string, unknown>;
}

export class IsolaError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, options: IsolaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IsolaError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

export function isIsolaError(value: unknown): value is IsolaError {
  return value instanceof IsolaError;
}

/** One line per layer, outermost first: "create container: mount("overlay" on "/run/x"): EINVAL". */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current !== undefined && current !== null && !seen.has(current)) {
    seen.add(current);
    if (current instanceof Error) {
      if (!parts.some((p) => p.endsWith(current instanceof Error ? current.message : ''))) parts.push(current.message);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(': ');
}
