import { Args } from '@oclif/core';
import { IsolaCommand } from '../base.js';
import { CONTAINER_FLAGS, createOptions, splitAtImage } from './run.js';

export default class Create extends IsolaCommand {
  static override summary = 'Create a container without starting it';
  static override description = 'The container\'s init is made and waits; `isola start` lets it run. Prints the container id.';
  static override strict = false;
  static override args = { image: Args.string({ required: true, description: 'image to create the container from' }) };
  static override flags = CONTAINER_FLAGS;

  async run(): Promise<void> {
    const [flagArgv, rest] = splitAtImage(this.argv);
    const { flags } = await this.parse(Create, [...flagArgv, rest[0] ?? '']);
    const [image, ...command] = rest;
    // The container's launcher starts loading now, while this process loads the engine (as run does).
    const { Launcher } = await import('@isola/engine/launcher');
    const launcher = new Launcher();
    let engine;
    try {
      engine = await import('@isola/engine');
    } catch (error) {
      launcher.cancel();
      throw error;
    }
    process.stdout.write(`${await engine.createContainerFromImage({ ...createOptions(flags, image!, command), launcher })}\n`);
  }
}
