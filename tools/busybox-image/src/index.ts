export { buildBusyboxImage } from './build.js';
export type { BuildOptions, BuildResult } from './build.js';
export { defaultImageDir } from './cache-dir.js';
