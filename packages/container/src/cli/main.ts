// isola-runtime: a runc-compatible command line over @isola/container, for containerd, podman and
// people who type runc. No oclif here: this path must start fast (Node alone is ~65 ms).
import { appendFileSync } from 'node:fs';
import { describeError } from '@isola/errors';
import { type FlagSpec, parseArgs, str } from './args.js';
import { COMMANDS } from './commands.js';
import { DEFAULT_ROOT } from '../state/store.js';

const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'root' }, { name: 'log' }, { name: 'log-format' }, { name: 'debug', boolean: true, ignored: true },
  { name: 'systemd-cgroup', boolean: true, ignored: true }, { name: 'criu', ignored: true }, { name: 'rootless' },
  { name: 'version', alias: 'v', boolean: true }, { name: 'help', alias: 'h', boolean: true },
];

const VERSION = '0.1.0';

/** The command table, for bin/isola-runtime.cjs: it keeps code caches for these words only. */
export { COMMANDS };

function usage(): string {
  return `usage: isola-runtime [--root DIR] [--log FILE] [--log-format text|json] COMMAND [OPTIONS] [ARGS]\ncommands: ${Object.keys(COMMANDS).join(', ')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  let log: { path?: string; json: boolean } = { json: false };
  const report = (level: 'error' | 'warning', message: string) => {
    if (log.path) {
      const line = log.json ? JSON.stringify({ level, msg: message, time: new Date().toISOString() }) : `time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(message)}`;
      try {
        appendFileSync(log.path, `${line}\n`);
      } catch {
        // the log is best effort; stderr below still tells
      }
    }
    process.stderr.write(`${level === 'error' ? 'isola-runtime' : 'isola-runtime: warning'}: ${message}\n`);
  };
  try {
    const global = parseArgs(argv, GLOBAL_FLAGS, 'isola-runtime', true);
    log = { path: str(global.flags, 'log'), json: str(global.flags, 'log-format') === 'json' };
    if (global.flags.version) {
      process.stdout.write(`isola-runtime version ${VERSION}\nspec: 1.2.0\n`);
      return 0;
    }
    const [name, ...rest] = global.args;
    if (!name || global.flags.help || name === 'help') {
      process.stdout.write(usage());
      return name || global.flags.help ? 0 : 1;
    }
    const command = COMMANDS[name];
    if (!command) throw new Error(`unknown command "${name}"; see isola-runtime --help`);
    // As with Go's flag package (runc): flags end at the first argument, so `exec ID sh -c x` keeps -c.
    const parsed = parseArgs(rest, command.flags, `isola-runtime ${name}`, true);
    if (parsed.args.length < command.minArgs || (command.maxArgs !== undefined && parsed.args.length > command.maxArgs)) {
      throw new Error(`isola-runtime ${name}: expects ${command.usage || 'no arguments'}`);
    }
    const ctx = { root: str(global.flags, 'root') ?? DEFAULT_ROOT, warn: (m: string) => report('warning', m), out: (t: string) => void process.stdout.write(t) };
    const code = await command.run(parsed, ctx);
    return typeof code === 'number' ? code : 0;
  } catch (error) {
    report('error', describeError(error));
    if (process.env.ISOLA_DEBUG === '1' && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return 1;
  }
}
