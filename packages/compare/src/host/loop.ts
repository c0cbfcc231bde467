// The CPU loop on the host itself: the baseline the container and the VM are compared with.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { IsolaError } from '@isola/errors';
import { type LoopResult, parseLoopLine } from './proc.js';

/** The fastest of `runs` timings of the loop (loop.c). */
export async function runHostLoop(loop: string, iterations: number, runs: number): Promise<LoopResult> {
  const { stdout } = await promisify(execFile)(loop, [String(iterations), String(runs)]);
  const result = parseLoopLine(stdout);
  if (!result) throw new IsolaError('ECOMPARE', `${loop}: printed no loop line: ${JSON.stringify(stdout.slice(0, 80))}`);
  return result;
}
