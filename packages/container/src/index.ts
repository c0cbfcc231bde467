export type * from './spec/types.js';
export * from './seccomp/index.js';
export * from './cgroups/index.js';
