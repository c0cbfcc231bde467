export { runImage, type RunOptions } from './run.js';
export { defaultImageLayout, importDefaultImage } from './default-image.js';
