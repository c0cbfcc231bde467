import { Args, Flags } from '@oclif/core';
import { splitAtPositional } from '../argv.js';
import { IsolaCommand } from '../base.js';

/** Docker's rule: flags end at the image name; what follows is the command, whatever its dashes. */
export const splitAtImage = (argv: readonly string[]) => splitAtPositional(argv, Run.flags);

/** The flags `run` and `create` share: what the container is. */
export const CONTAINER_FLAGS = {
  env: Flags.string({ char: 'e', multiple: true, multipleNonGreedy: true, description: 'set an environment variable (NAME=value, or NAME to pass it through)' }),
  workdir: Flags.string({ char: 'w', description: 'working directory inside the container' }),
  user: Flags.string({ char: 'u', description: 'uid[:gid] to run as' }),
  name: Flags.string({ description: 'container name' }),
  hostname: Flags.string({ description: 'container host name' }),
  network: Flags.string({ default: 'bridge', description: 'network: bridge (the default), none (loopback only), host, or a network made with `network create`' }),
  'network-alias': Flags.string({ multiple: true, multipleNonGreedy: true, description: 'another name for the container on a user-defined network' }),
  publish: Flags.string({ char: 'p', multiple: true, multipleNonGreedy: true, description: "publish a container's port on the host: [ip:][hostPort:]containerPort[/tcp|udp]" }),
  'publish-all': Flags.boolean({ char: 'P', description: 'publish every port the image exposes on a free host port' }),
  'read-only': Flags.boolean({ description: 'mount the root filesystem read-only' }),
  'cap-add': Flags.string({ multiple: true, multipleNonGreedy: true, description: 'add a Linux capability' }),
  'cap-drop': Flags.string({ multiple: true, multipleNonGreedy: true, description: 'drop a Linux capability' }),
  entrypoint: Flags.string({ description: "override the image's entrypoint" }),
  'env-file': Flags.string({ multiple: true, multipleNonGreedy: true, description: 'read environment variables from a file (NAME=value lines)' }),
  'security-opt': Flags.string({ multiple: true, multipleNonGreedy: true, description: 'seccomp=unconfined|PROFILE.json, no-new-privileges[:true|false]' }),
  pull: Flags.string({ description: 'pull the image: missing (default: when not in the store), always, never' }),
  rm: Flags.boolean({ description: 'remove the container when it exits' }),
  interactive: Flags.boolean({ char: 'i', description: 'keep stdin open and attached' }),
  tty: Flags.boolean({ char: 't', description: 'give the container a pseudo-terminal' }),
  init: Flags.boolean({ description: 'run an init as PID 1 that forwards signals and reaps processes' }),
  volume: Flags.string({ char: 'v', multiple: true, multipleNonGreedy: true, description: 'mount a host path (absolute) or a named volume: SRC:DST[:ro|rw], or DST for an anonymous volume' }),
  mount: Flags.string({ multiple: true, multipleNonGreedy: true, description: 'type=bind|volume|tmpfs,source=...,target=...[,readonly][,tmpfs-size=...]' }),
  tmpfs: Flags.string({ multiple: true, multipleNonGreedy: true, description: 'mount a tmpfs: DST[:OPTIONS] (e.g. /run:size=64m)' }),
  memory: Flags.string({ char: 'm', description: 'memory limit (e.g. 64m, 1g)' }),
  'memory-swap': Flags.string({ description: 'memory plus swap limit, or -1 for unlimited swap' }),
  cpus: Flags.string({ description: 'number of CPUs (e.g. 0.5)' }),
  'cpu-shares': Flags.string({ char: 'c', description: 'CPU shares (relative weight, 2-262144)' }),
  'pids-limit': Flags.string({ description: 'most processes the container may have (-1: no limit)' }),
};

type ContainerFlags = { [K in keyof typeof CONTAINER_FLAGS]?: unknown };

export function createOptions(flags: ContainerFlags, image: string, command: string[]) {
  return {
    image, command, env: flags.env as string[] | undefined, workdir: flags.workdir as string | undefined, user: flags.user as string | undefined,
    name: flags.name as string | undefined, hostname: flags.hostname as string | undefined, network: flags.network as string | undefined,
    readOnly: flags['read-only'] as boolean | undefined, capAdd: flags['cap-add'] as string[] | undefined, capDrop: flags['cap-drop'] as string[] | undefined,
    entrypoint: flags.entrypoint as string | undefined, autoRemove: flags.rm as boolean | undefined, pull: flags.pull as string | undefined,
    envFile: flags['env-file'] as string[] | undefined, securityOpt: flags['security-opt'] as string[] | undefined,
    interactive: flags.interactive as boolean | undefined, tty: flags.tty as boolean | undefined, init: flags.init as boolean | undefined,
    volume: flags.volume as string[] | undefined, mount: flags.mount as string[] | undefined, tmpfs: flags.tmpfs as string[] | undefined,
    memory: flags.memory as string | undefined, memorySwap: flags['memory-swap'] as string | undefined, cpus: flags.cpus as string | undefined,
    cpuShares: flags['cpu-shares'] as string | undefined, pidsLimit: flags['pids-limit'] as string | undefined,
    publish: flags.publish as string[] | undefined, publishAll: flags['publish-all'] as boolean | undefined, networkAlias: flags['network-alias'] as string[] | undefined,
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
    const options = { ...createOptions(flags, image!, command), detach: flags.detach };
    // The container's launcher (a Node process too) starts loading now, while this one loads the engine.
    const { launcherFor } = await import('@isola/engine/launcher');
    const launcher = launcherFor(options);
    let engine;
    try {
      engine = await import('@isola/engine');
    } catch (error) {
      launcher?.cancel();
      throw error;
    }
    if (process.env.ISOLA_TIMING === '1') process.stderr.write(`isola-timing: engine loaded at ${performance.now().toFixed(1)} ms\n`);
    const result = await engine.runImage({ ...options, launcher });
    if (typeof result === 'string') process.stdout.write(`${result}\n`);
    else process.exitCode = result;
  }
}
