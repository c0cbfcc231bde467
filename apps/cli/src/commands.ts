// Every command, by id: oclif's "explicit" strategy loads this one module instead of scanning a folder.
import Doctor from './commands/doctor.js';
import ImagePrune from './commands/image/prune.js';
import Images from './commands/images.js';
import Inspect from './commands/inspect.js';
import Load from './commands/load.js';
import Pull from './commands/pull.js';
import Push from './commands/push.js';
import Rmi from './commands/rmi.js';
import Run from './commands/run.js';
import Save from './commands/save.js';
import Tag from './commands/tag.js';
import VmRun from './commands/vm/run.js';

export const COMMANDS = {
  doctor: Doctor,
  images: Images,
  'image:prune': ImagePrune,
  inspect: Inspect,
  load: Load,
  pull: Pull,
  push: Push,
  rmi: Rmi,
  run: Run,
  save: Save,
  tag: Tag,
  'vm:run': VmRun,
};
