import { Args, Flags } from '@oclif/core';
import { splitAtPositional } from '../argv.js';
import { IsolaCommand } from '../base.js';

export default class Exec extends IsolaCommand {
  static override summary = 'Run a command in a running container';
  static override description =
    "The command joins the container's namespaces and cgroup with its security profile (capabilities, seccomp, " +
    'no_new_privs) and its environment; its exit status is passed on.';
  static override strict = false;
  static override args = {
    container: Args.string({ required: true, description: 'container name or id' }),
    // Not required here: the engine's error for a missing command names it (oclif's first line does not).
    command: Args.string({ required: false, description: 'command to run, with its arguments' }),
  };
  static override flags = {
    detach: Flags.boolean({ char: 'd', description: 'run it in the background' }),
    interactive: Flags.boolean({ char: 'i', description: 'keep stdin open and attached' }),
    tty: Flags.boolean({ char: 't', description: 'give the command a pseudo-terminal' }),
    env: Flags.string({ char: 'e', multiple: true, multipleNonGreedy: true, description: 'set an environment variable (NAME=value, or NAME to pass it through)' }),
    workdir: Flags.string({ char: 'w', description: 'working directory inside the container' }),
    user: Flags.string({ char: 'u', description: 'uid[:gid] to run as' }),
  };

  async run(): Promise<void> {
    const [flagArgv, rest] = splitAtPositional(this.argv, Exec.flags);
    const { flags } = await this.parse(Exec, [...flagArgv, ...rest.slice(0, 2)]);
    const [container, ...command] = rest;
    const { execInContainer } = await import('@isola/engine');
    process.exitCode = await execInContainer(container!, {
      command, env: flags.env, workdir: flags.workdir, user: flags.user, detach: flags.detach, interactive: flags.interactive, tty: flags.tty,
    });
  }
}
