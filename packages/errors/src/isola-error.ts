// The base error of every isola package. `code` is stable and machine-readable (the CLI maps it to an
// exit status in one place); `message` is one line a person can act on; `cause` links the layers, so a
// failure reads from the user's intent down to the errno.

export interface IsolaErrorOptions {
  cause?: unknown;
  /** Extra structured facts (paths, syscall names, offsets) for `--log-format json` and tests. */
  details?: Record<string, unknown>;
}

/** Marks every IsolaError, whichever copy of this module made it (Symbol.for: one symbol per process). */
const BRAND = Symbol.for('isola.error');

export class IsolaError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown>;

  /**
   * `x instanceof IsolaError` holds for an IsolaError from any copy of this module: bundles (the CLI's,
   * the engine's) carry their own copy, and an error crossing from one to another is still an
   * IsolaError. Subclasses (SyscallError...) keep the ordinary prototype check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== IsolaError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }

  constructor(code: string, message: string, options: IsolaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    Object.defineProperty(this, BRAND, { value: true });
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
