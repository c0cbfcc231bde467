export { IsolaError, isIsolaError, describeError } from './isola-error.js';
export type { IsolaErrorOptions } from './isola-error.js';
