import { Args } from '@oclif/core';
import { IsolaCommand } from '../base.js';

export default class Top extends IsolaCommand {
  static override summary = "Show a container's processes (the host's ps, default -ef, narrowed to them)";
  static override strict = false;
  static override args = { container: Args.string({ required: true, description: 'container name or id' }) };

  async run(): Promise<void> {
    // Everything after the container is ps's, dashes included: only the container goes through oclif.
    const [container, ...psArgs] = this.argv;
    await this.parse(Top, container === undefined || container.startsWith('-') ? this.argv : [container]);
    const { topContainer } = await import('@isola/engine');
    const { header, lines } = await topContainer(container!, psArgs);
    process.stdout.write([header, ...lines].join('\n') + '\n');
  }
}
