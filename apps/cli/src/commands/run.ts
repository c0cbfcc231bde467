import { Args, Flags } from '@oclif/core';
import { IsolaCommand } from '../base.js';

const VALUE_FLAGS = new Set(['-e', '--env', '-w', '--workdir', '-u', '--user', '--name', '--hostname', '-h', '--network', '--cap-add', '--cap-drop', '--entrypoint']);

/** Docker's rule: flags end at the image name; what follows is the command, whatever its dashes. */
function splitAtImage(argv: readonly string[]): [flags: string[], rest: string[]] {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') return [argv.slice(0, i), argv.slice(i + 1)];
    if (!token.startsWith('-')) return [argv.slice(0, i), argv.slice(i)];
    if (VALUE_FLAGS.has(token)) i++;
  }
  return [[...argv], []];
}

export default class Run extends IsolaCommand {
  static override summary = 'Run a command in a new container';
  static override description =
    'Creates a container from IMAGE with isola\'s default security profile and runs COMMAND (or the image\'s own) in the ' +
    'foreground; the container is removed when it exits. `busybox` is the embedded default image, built from Debian\'s busybox-static.';
  static override strict = false;
  static override args = { image: Args.string({ required: true, description: 'image to run' }) };
  static override flags = {
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
    rm: Flags.boolean({ description: 'remove the container when it exits (always, for now)' }),
  };

  async run(): Promise<void> {
    const [flagArgv, rest] = splitAtImage(this.argv);
    const { flags } = await this.parse(Run, [...flagArgv, rest[0] ?? '']);
    const [image, ...command] = rest;
    const { runImage } = await import('@isola/engine');
    process.exitCode = await runImage({
      image: image!, command, env: flags.env, workdir: flags.workdir, user: flags.user, name: flags.name, hostname: flags.hostname,
      network: flags.network as 'none' | 'host', readOnly: flags['read-only'], capAdd: flags['cap-add'], capDrop: flags['cap-drop'],
      entrypoint: flags.entrypoint,
    });
  }
}
