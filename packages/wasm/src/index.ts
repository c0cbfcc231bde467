export { zeroRuns, diffRuns } from './byterange/index.js';
export type { ByteRun } from './byterange/index.js';
