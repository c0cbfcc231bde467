// Test helpers other packages need (`@isola/sys/testing`): run a child's steps with its output captured.
import { close, pipe2, read } from './syscalls/files.js';
import { type ChildState, waitid } from './syscalls/process.js';
import type { Step } from './spawn/program.js';
import { spawn } from './spawn/spawn.js';
import { dup2Step } from './spawn/steps.js';

/** Everything readable from `fd` until end of file, as text. */
export function readAll(fd: number): string {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(4096);
  for (let n; (n = read(fd, buf)) > 0; ) chunks.push(Buffer.from(buf.subarray(0, n)));
  return Buffer.concat(chunks).toString();
}

export interface Captured {
  output: string;
  state: ChildState | null;
}

/**
 * Spawns a child that runs `steps` with its stdout (and, with `stderr`, its stderr) on a pipe; waits for
 * it and returns what it printed and how it ended. `before` steps run ahead of the redirection.
 */
export function runCaptured(steps: readonly Step[], options: { namespaces?: number; stderr?: boolean; before?: readonly Step[] } = {}): Captured {
  const [r, w] = pipe2();
  let writeOpen = true;
  try {
    const redirect = options.stderr ? [dup2Step(w, 1), dup2Step(w, 2)] : [dup2Step(w, 1)];
    const pid = spawn({ namespaces: options.namespaces, steps: [...(options.before ?? []), ...redirect, ...steps] });
    close(w);
    writeOpen = false;
    const output = readAll(r);
    return { output, state: waitid({ pid }) };
  } finally {
    close(r);
    if (writeOpen) close(w);
  }
}
