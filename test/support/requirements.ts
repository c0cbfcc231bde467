// What a test needs from the host (root, /dev/kvm, a Debian tool), and what happens when it is missing:
// on a developer's machine the test is skipped with the reason; under CI=true it fails, because CI is
// the place that must prove the real thing works.
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { it, type TestFunction } from 'vitest';

export const underCI = process.env.CI === 'true';

export interface Needs {
  root?: boolean;
  kvm?: boolean;
  /** Executables that must be on PATH, e.g. 'qemu-img', 'objdump'. */
  tools?: string[];
  /** Files that must exist, e.g. '/bin/busybox'. */
  files?: string[];
}

export function which(tool: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** The reasons the host falls short of `needs`, empty when everything is there. */
export function missing(needs: Needs): string[] {
  const reasons: string[] = [];
  if (needs.root && process.getuid?.() !== 0) reasons.push('root');
  if (needs.kvm) {
    try {
      accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    } catch {
      reasons.push('/dev/kvm');
    }
  }
  for (const tool of needs.tools ?? []) if (!which(tool)) reasons.push(`the ${tool} command`);
  for (const file of needs.files ?? []) if (!existsSync(file)) reasons.push(file);
  return reasons;
}

/**
 * `itNeeds({ kvm: true })('runs a guest', async () => ...)`: skipped locally when the host lacks
 * something, failing under CI=true with the list of what is missing.
 */
export function itNeeds(needs: Needs) {
  const reasons = missing(needs);
  return (name: string, fn: TestFunction, timeout?: number): void => {
    if (reasons.length === 0) {
      it(name, fn, timeout);
    } else if (underCI) {
      it(name, () => {
        throw new Error(`this host lacks ${reasons.join(', ')} (CI=true: required, not skipped)`);
      });
    } else {
      it.skip(`${name} (needs ${reasons.join(', ')})`, fn);
    }
  };
}
