export { COMMANDS } from './commands.js';
export { reportError, exitStatusFor, EXIT } from './errors.js';
