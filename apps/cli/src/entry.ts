// What bin/run.js loads: the runner and the command table, bundled with oclif into dist/isola.cjs.
export { run } from './main.js';
export { COMMANDS } from './commands.js';
export { ONE_COMMAND } from './one-command.js';
