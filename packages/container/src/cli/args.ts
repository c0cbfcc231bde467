// runc-style command lines (urfave/cli): global flags, a command, its flags, then arguments. Flags take
// `--name value`, `--name=value` or `-n value`; booleans take no value. An unknown flag is an error that
// names it, so a caller relying on a runc feature isola lacks finds out at once.
import { IsolaError } from '@isola/errors';

export interface FlagSpec {
  /** Long name without dashes, and optional one-letter alias. */
  name: string;
  alias?: string;
  boolean?: boolean;
  /** Accepted for compatibility and ignored (e.g. --no-new-keyring). */
  ignored?: boolean;
  /** Known runc flag that isola does not implement: using it is an error. */
  unsupported?: boolean;
}

export interface Parsed {
  flags: Record<string, string | boolean>;
  args: string[];
}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[], where: string, stopAtFirstArg = false): Parsed {
  const flags: Record<string, string | boolean> = {};
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!token.startsWith('-') || token === '-' || (stopAtFirstArg && args.length > 0)) {
      args.push(token);
      if (stopAtFirstArg) {
        args.push(...argv.slice(i + 1));
        break;
      }
      continue;
    }
    const [rawName, inline] = token.replace(/^--?/, '').split(/=(.*)/s, 2) as [string, string | undefined];
    const spec = specs.find((s) => s.name === rawName || s.alias === rawName);
    if (!spec) throw new IsolaError('EUSAGE', `${where}: unknown flag ${token.split('=')[0]}`);
    if (spec.unsupported) throw new IsolaError('EUNSUPPORTED', `${where}: --${spec.name} is not supported by isola-runtime`);
    let value: string | boolean;
    if (spec.boolean) value = inline === undefined ? true : inline !== 'false';
    else if (inline !== undefined) value = inline;
    else if (i + 1 < argv.length) value = argv[++i]!;
    else throw new IsolaError('EUSAGE', `${where}: --${spec.name} needs a value`);
    if (!spec.ignored) flags[spec.name] = value;
  }
  return { flags, args };
}

export function str(flags: Record<string, string | boolean>, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
}
