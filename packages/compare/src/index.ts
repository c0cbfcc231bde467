// @isola/compare: containers and microVMs measured side by side on this host (`isola compare`).
export { runCompare, GUEST_NOTE, type CompareOptions, type CompareReport, type CpuResult, type Startup } from './compare.js';
export { formatCompare } from './report.js';
export { parseRounds, median, DEFAULT_ROUNDS, DEFAULT_LOOP_ITERATIONS } from './options.js';
export { parseLoopLine, parseNamespaceLinks, capabilityCount, kibField, type ProcessMemory, type LoopResult } from './host/proc.js';
