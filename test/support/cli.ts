// How the end-to-end tests run isola as users do: the built binaries, real arguments, real exit statuses.
// One result shape for every command ({ status, stdout, stderr }), a temp dir per test file that is removed
// after it (with whatever is still mounted below it), and the clean-up of the containers a test left behind.
// What only one file needs (a pty, a process handle, its own environment) stays in that file.
import { type StdioOptions, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import type { TestNetns } from './netns.js';

/** The `isola` command (apps/cli), run with node. */
export const isolaBin = fileURLToPath(new URL('../../apps/cli/bin/isola.cjs', import.meta.url));
/** `isola-runtime`, the OCI runtime that podman and containerd drive (packages/container). */
export const runtimeBin = fileURLToPath(new URL('../../packages/container/bin/isola-runtime.cjs', import.meta.url));

export interface CliResult {
  /** The exit status; null when the process ended by a signal (the timeout's SIGTERM included). */
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  /** The whole environment; process.env when absent. */
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Milliseconds before the process is killed: 60 s unless told. */
  timeout?: number;
  stdio?: StdioOptions;
}

/** Runs any command to completion and returns its status and output as text. */
export function runCommand(command: string, args: string[], options: CommandOptions = {}): CliResult {
  const { env, input, timeout = 60_000, stdio } = options;
  const r = spawnSync(command, args, { encoding: 'utf8', env, input, timeout, stdio });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export interface IsolaOptions {
  /** $ISOLA_ROOT; the user's own default when absent. */
  root?: string;
  /** Run isola inside this namespace (through nsenter), where its bridges and rules are made. */
  netns?: TestNetns;
  /** Variables added to the environment. */
  env?: Record<string, string>;
  input?: string;
  timeout?: number;
}

/** process.env with $ISOLA_ROOT set to `root` (when given) and `extra` on top. */
export function isolaEnv(root?: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...(root === undefined ? {} : { ISOLA_ROOT: root }), ...extra };
}

/** The command line that starts isola: `[nsenter --net=PATH] node isola.cjs`. */
export function isolaArgv(netns?: TestNetns): string[] {
  return [...(netns ? ['nsenter', `--net=${netns.path}`] : []), process.execPath, isolaBin];
}

/** `isola ARGS...` to completion. */
export function runIsola(args: string[], options: IsolaOptions = {}): CliResult {
  const [command, ...prefix] = isolaArgv(options.netns);
  return runCommand(command!, [...prefix, ...args], { env: isolaEnv(options.root, options.env), input: options.input, timeout: options.timeout });
}

/** `isola(...args)` with the same options on every call. */
export function isolaWith(options: IsolaOptions = {}): (...args: string[]) => CliResult {
  return (...args) => runIsola(args, options);
}

/** A directory's entries, sorted; none when it does not exist. */
export const list = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).sort() : []);

/**
 * A temp dir for this test file: named now, made before its first test, and removed after its last one, once
 * whatever is still mounted below it is (lazily) unmounted. A run that skips all of the file's tests (`-t`, a
 * missing tool) runs none of its hooks, so it makes nothing. Call it before the file's own hooks that use the
 * dir: before-hooks run in order and after-hooks as a stack, so this one's come first and last.
 */
export function useWorkDir(prefix: string): string {
  const dir = join(tmpdir(), `${prefix}${randomBytes(6).toString('hex')}`);
  beforeAll(() => mkdirSync(dir, { mode: 0o700 }));
  afterAll(() => {
    const mountpoints = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((line) => line.split(' ')[4]);
    for (const mountpoint of mountpoints.reverse()) if (mountpoint?.startsWith(`${dir}/`)) spawnSync('umount', ['-l', mountpoint]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** `isola rm -f` of every container recorded under the root (the ones a failing test left behind). */
export function removeContainers(options: IsolaOptions & { root: string }): void {
  const ids = list(join(options.root, 'containers'));
  if (ids.length) runIsola(['rm', '-f', ...ids], options);
}

export interface IsolaRoot {
  /** The file's temp dir. */
  work: string;
  /** $ISOLA_ROOT, `work`/root. */
  root: string;
  /** What `isola` is run with: this root, and the namespace when given. */
  options: IsolaOptions & { root: string };
  isola: (...args: string[]) => CliResult;
}

/**
 * A state root of the file's own in a temp dir; after the file's tests, the containers left under it are
 * removed (`rm -f`), then the dir. Call it after `useTestNetns()` and before the file's own after-hooks.
 */
export function useIsolaRoot(prefix: string, netns?: TestNetns): IsolaRoot {
  const work = useWorkDir(prefix);
  const root = join(work, 'root');
  const options = { root, netns };
  afterAll(() => removeContainers(options));
  return { work, root, options, isola: isolaWith(options) };
}

/** Builds the embedded busybox image before the file's tests, on a host where they can run it. */
export function useBusyboxImage(): void {
  beforeAll(async () => {
    if (process.getuid?.() !== 0 || !existsSync('/bin/busybox')) return;
    const { buildBusyboxImage } = await import('@isola/busybox-image');
    await buildBusyboxImage();
  });
}
