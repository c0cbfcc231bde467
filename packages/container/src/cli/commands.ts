// The commands of isola-runtime, each a thin call into the library (runc's names, flags and output).
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { IsolaError } from '@isola/errors';
import { createCgroup } from '../cgroups/index.js';
import { createContainer } from '../container/create.js';
import { execInContainer } from '../container/exec.js';
import { deleteContainer } from '../container/delete.js';
import { killContainer } from '../container/kill.js';
import { containerState, listContainers } from '../container/list.js';
import { runContainer } from '../container/run.js';
import { startContainer } from '../container/start.js';
import { statusOf } from '../container/status.js';
import { updateContainer } from '../container/update.js';
import { defaultSpec } from '../spec/default.js';
import type { Process } from '../spec/types.js';
import { StateStore } from '../state/store.js';
import { type FlagSpec, type Parsed, str } from './args.js';
import { UPDATE_FLAGS, updateResources } from './update.js';

export interface Context {
  root: string;
  warn: (message: string) => void;
  out: (text: string) => void;
}

export interface Command {
  flags: FlagSpec[];
  /** Arguments after the flags: how many the command needs, for the usage error. */
  usage: string;
  minArgs: number;
  maxArgs?: number;
  run: (parsed: Parsed, ctx: Context) => Promise<number | void>;
}

const CREATE_FLAGS: FlagSpec[] = [
  { name: 'bundle', alias: 'b' }, { name: 'console-socket' }, { name: 'pid-file' }, { name: 'no-pivot', boolean: true, unsupported: true },
  { name: 'no-new-keyring', boolean: true, ignored: true }, { name: 'preserve-fds' }, { name: 'pidfd-socket', unsupported: true },
];

/**
 * --preserve-fds N as a number. As with runc, the count is trusted: Node marks every fd it finds at
 * startup close-on-exec, so an fd the caller passed cannot be told from one Node opened itself.
 */
function preserveFds(flags: Parsed['flags']): number | undefined {
  const value = str(flags, 'preserve-fds');
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new IsolaError('EUSAGE', `--preserve-fds ${JSON.stringify(value)}: expected a number of fds`);
  return Number(value);
}

function needId(parsed: Parsed): string {
  return parsed.args[0]!;
}

export const COMMANDS: Record<string, Command> = {
  create: {
    flags: CREATE_FLAGS, usage: '<container-id>', minArgs: 1, maxArgs: 1,
    run: async ({ flags, args }, ctx) => {
      await createContainer({
        id: args[0]!, bundle: str(flags, 'bundle') ?? '.', root: ctx.root, pidFile: str(flags, 'pid-file'), consoleSocket: str(flags, 'console-socket'),
        preserveFds: preserveFds(flags), warn: ctx.warn,
      });
    },
  },
  start: { flags: [], usage: '<container-id>', minArgs: 1, maxArgs: 1, run: async (p, ctx) => startContainer(needId(p), { root: ctx.root, warn: ctx.warn }) },
  run: {
    flags: [...CREATE_FLAGS, { name: 'detach', alias: 'd', boolean: true }, { name: 'keep', boolean: true }, { name: 'no-subreaper', boolean: true, ignored: true }],
    usage: '<container-id>', minArgs: 1, maxArgs: 1,
    run: async ({ flags, args }, ctx) =>
      runContainer({
        id: args[0]!, bundle: str(flags, 'bundle') ?? '.', root: ctx.root, pidFile: str(flags, 'pid-file'), consoleSocket: str(flags, 'console-socket'),
        detach: flags.detach === true, keep: flags.keep === true, preserveFds: preserveFds(flags), warn: ctx.warn,
      }),
  },
  exec: {
    flags: [
      { name: 'process', alias: 'p' }, { name: 'detach', alias: 'd', boolean: true }, { name: 'pid-file' }, { name: 'tty', alias: 't', boolean: true },
      { name: 'console-socket' }, { name: 'cwd' }, { name: 'env', alias: 'e' }, { name: 'user', alias: 'u' }, { name: 'no-new-privs', boolean: true },
      { name: 'cap', alias: 'c' }, { name: 'preserve-fds' }, { name: 'cgroup', unsupported: true }, { name: 'ignore-paused', boolean: true, ignored: true },
    ],
    usage: '<container-id> [command [args...]]', minArgs: 1,
    run: async ({ flags, args }, ctx) => {
      const [id, ...command] = args;
      const processFile = str(flags, 'process');
      const record = new StateStore(ctx.root).read(id!);
      let process: Process;
      if (processFile) {
        process = JSON.parse(readFileSync(processFile, 'utf8')) as Process;
      } else {
        if (command.length === 0) throw new IsolaError('EUSAGE', 'isola-runtime exec: give --process FILE or a command');
        const base = record.config.process!;
        const [uid, gid] = (str(flags, 'user') ?? `${base.user.uid}:${base.user.gid}`).split(':').map(Number);
        process = { ...base, terminal: flags.tty === true, args: command, cwd: str(flags, 'cwd') ?? base.cwd, user: { uid: uid!, gid: gid ?? 0 } };
        if (str(flags, 'env')) process.env = [...(base.env ?? []), str(flags, 'env')!];
        if (flags['no-new-privs']) process.noNewPrivileges = true;
      }
      return execInContainer({
        id: id!, process, root: ctx.root, detach: flags.detach === true, pidFile: str(flags, 'pid-file'), consoleSocket: str(flags, 'console-socket'),
        preserveFds: preserveFds(flags),
      });
    },
  },
  state: {
    flags: [], usage: '<container-id>', minArgs: 1, maxArgs: 1,
    run: async (p, ctx) => ctx.out(`${JSON.stringify(await containerState(needId(p), ctx.root), null, '  ')}\n`),
  },
  kill: {
    flags: [{ name: 'all', alias: 'a', boolean: true }], usage: '<container-id> [signal]', minArgs: 1, maxArgs: 2,
    run: async ({ flags, args }, ctx) => killContainer(args[0]!, args[1], { root: ctx.root, all: flags.all === true }),
  },
  delete: {
    flags: [{ name: 'force', alias: 'f', boolean: true }], usage: '<container-id>', minArgs: 1, maxArgs: 1,
    run: async ({ flags, args }, ctx) => {
      try {
        await deleteContainer(args[0]!, { root: ctx.root, force: flags.force === true, warn: ctx.warn });
      } catch (error) {
        // runc delete --force of a container that does not exist succeeds: containerd relies on it.
        if (!(flags.force === true && (error as IsolaError).code === 'ENOTFOUND')) throw error;
      }
    },
  },
  list: {
    flags: [{ name: 'format', alias: 'f' }, { name: 'quiet', alias: 'q', boolean: true }], usage: '', minArgs: 0, maxArgs: 0,
    run: async ({ flags }, ctx) => {
      const states = await listContainers(ctx.root);
      if (flags.quiet) return ctx.out(states.map((s) => `${s.id}\n`).join(''));
      if (str(flags, 'format') === 'json') return ctx.out(`${JSON.stringify(states)}\n`);
      const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, 'root'])];
      const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
      ctx.out(rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]! + 3))).join('').trimEnd() + '\n').join(''));
    },
  },
  ps: {
    flags: [{ name: 'format', alias: 'f' }], usage: '<container-id>', minArgs: 1, maxArgs: 1,
    run: async ({ flags, args }, ctx) => {
      const record = new StateStore(ctx.root).read(args[0]!);
      const pids = await createCgroup(record.cgroupPath).pids();
      if (str(flags, 'format') === 'json') return ctx.out(`${JSON.stringify(pids)}\n`);
      const lines = ['PID   CMD', ...pids.map((pid) => `${String(pid).padEnd(6)}${readCmdline(pid)}`)];
      ctx.out(`${lines.join('\n')}\n`);
    },
  },
  pause: {
    flags: [], usage: '<container-id>', minArgs: 1, maxArgs: 1,
    run: async (p, ctx) => {
      const record = new StateStore(ctx.root).read(needId(p));
      if ((await statusOf(record)) !== 'running') throw new IsolaError('ESTATE', `cannot pause container "${record.id}": it is not running`);
      await createCgroup(record.cgroupPath).freeze();
    },
  },
  resume: {
    flags: [], usage: '<container-id>', minArgs: 1, maxArgs: 1,
    run: async (p, ctx) => {
      const record = new StateStore(ctx.root).read(needId(p));
      if ((await statusOf(record)) !== 'paused') throw new IsolaError('ESTATE', `cannot resume container "${record.id}": it is not paused`);
      await createCgroup(record.cgroupPath).thaw();
    },
  },
  update: {
    flags: UPDATE_FLAGS, usage: '<container-id>', minArgs: 1, maxArgs: 1,
    run: async (parsed, ctx) => updateContainer(needId(parsed), updateResources(parsed), { root: ctx.root }),
  },
  events: {
    flags: [{ name: 'stats', boolean: true }, { name: 'interval' }], usage: '<container-id>', minArgs: 1, maxArgs: 1,
    run: async ({ flags, args }, ctx) => {
      const record = new StateStore(ctx.root).read(args[0]!);
      const cgroup = createCgroup(record.cgroupPath);
      const emit = async () => ctx.out(`${JSON.stringify({ type: 'stats', id: record.id, data: await cgroup.stats() })}\n`);
      if (flags.stats) return emit();
      const interval = Number.parseFloat(str(flags, 'interval') ?? '5') * 1000;
      while ((await statusOf(record)) !== 'stopped') {
        await emit();
        await new Promise((r) => setTimeout(r, interval));
      }
    },
  },
  spec: {
    flags: [{ name: 'bundle', alias: 'b' }, { name: 'rootless', boolean: true }], usage: '', minArgs: 0, maxArgs: 0,
    run: async ({ flags }) => {
      const path = resolve(str(flags, 'bundle') ?? '.', 'config.json');
      if (existsSync(path)) throw new IsolaError('EEXIST', `${path} already exists; remove it first`);
      writeFileSync(path, `${JSON.stringify(defaultSpec({ rootless: flags.rootless === true }), null, '\t')}\n`);
    },
  },
  features: {
    flags: [], usage: '', minArgs: 0, maxArgs: 0,
    run: async (_p, ctx) => {
      const { features } = await import('./features.js');
      ctx.out(`${JSON.stringify(features(), null, '    ')}\n`);
    },
  },
};

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}
