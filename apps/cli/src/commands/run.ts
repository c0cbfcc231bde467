import { Args, Flags } from '@oclif/core';
import { IsolaCommand } from '../base.js';

const VALUE_FLAGS = new Set(['-e', '--env', '-w', '--workdir', '-u', '--user', '--name', '--hostname', '-h', '--network', '--cap-add', '--cap-drop', '--entrypoint']);

/** Docker's rule: flags end at the image name; what follows is the command, whatever its dashes. */
export function splitAtImage(argv: readonly string[]): [flags: string[], rest: string[]] {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') return [argv.slice(0, i), argv.slice(i + 1)];
    if (!token.startsWith('-')) return [argv.slice(0, i), argv.slice(i)];
    if (VALUE_FLAGS.has(token)) i++;
  }
  return [[...argv], []];
}

/** The flags `run` and `create` share: what the container is. */
export const CONTAINER_FLAGS = {
  env: Flags.string({ char: 'e', multiple: true, description: 'set an environment variable (NAME=value, or NAME to pass it through)' }),
  workdir: Flags.string({ char: 'w', description: 'working directory inside the container' }),
  user: Flags.string({ char: 'u', description: 'uid[:gid] to run as' }),
  name: Flags.string({ description: 'container name' }),
  hostname: Flags.string({ description: 'container host name' }),
  network: Flags.string({ options: ['none', 'host'], default: 'none', description: 'network: none (loopback only) or host' }),
  'read-only': Flags.boolean({ description: 'mount the root filesystem read-only' }),
  'cap-add': Flags.string({ multiple: true, description: 'add a Linux capability' }),
  'cap-drop': Flags.string({ multiple: true, description: 'drop a Linux capability' }),
  entrypoint: Flags.string({ description: "override the image's entrypoint" }),
  rm: Flags.boolean({ description: 'remove the container when it exits' }),
};

type ContainerFlags = { [K in keyof typeof CONTAINER_FLAGS]?: unknown };

export function createOptions(flags: ContainerFlags, image: string, command: string[]) {
  return {
    image, command, env: flags.env as string[] | undefined, workdir: flags.workdir as string | undefined, user: flags.user as string | undefined,
    name: flags.name as string | undefined, hostname: flags.hostname as string | undefined, network: flags.network as 'none' | 'host',
    readOnly: flags['read-only'] as boolean | undefined, capAdd: flags['cap-add'] as string[] | undefined, capDrop: flags['cap-drop'] as string[] | undefined,
    entrypoint: flags.entrypoint as string | undefined, autoRemove: flags.rm as boolean | undefined,
  };
}

export default class Run extends IsolaCommand {
  static override summary = 'Run a command in a new container';
  static override description =
    'Creates a container from IMAGE with isola\'s default security profile and runs COMMAND (or the image\'s own). ' +
    'In the foreground its output is shown as it comes and the exit status is passed on; with -d it runs under its own ' +
    'small monitor process and its id is printed. The stopped container stays (see ps -a, logs, rm) unless --rm is given. ' +
    '`busybox` is the embedded default image, built from Debian\'s busybox-static.';
  static override strict = false;
  static override args = { image: Args.string({ required: true, description: 'image to run' }) };
  static override flags = {
    detach: Flags.boolean({ char: 'd', description: 'run in the background and print the container id' }),
    ...CONTAINER_FLAGS,
  };

  async run(): Promise<void> {
    const [flagArgv, rest] = splitAtImage(this.argv);
    const { flags } = await this.parse(Run, [...flagArgv, rest[0] ?? '']);
    const [image, ...command] = rest;
    const { runImage } = await import('@isola/engine');
    const result = await runImage({ ...createOptions(flags, image!, command), detach: flags.detach });
    if (typeof result === 'string') process.stdout.write(`${result}\n`);
    else process.exitCode = result;
  }
}
