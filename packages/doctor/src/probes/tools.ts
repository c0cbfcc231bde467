// Host tools isola uses when they are there: image tools for interoperability, reference runtimes and
// VMMs for side-by-side benchmarks, binutils and a C compiler for guest kits and oracle tests.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { type Check, check } from '../check.js';

export const OPTIONAL_TOOLS = [
  'busybox', 'qemu-img', 'qemu-system-x86_64', 'skopeo', 'umoci', 'runc', 'crun', 'podman', 'ctr',
  'ip', 'iptables', 'nft', 'objdump', 'as', 'cc', 'docker-registry',
] as const;

export type ToolDetails = Record<string, string | null>;

export function findOnPath(tool: string, path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return join(dir, tool);
    } catch {
      // keep looking
    }
  }
  return null;
}

export function probeTools(tools: readonly string[] = OPTIONAL_TOOLS): Check<ToolDetails> {
  const details: ToolDetails = {};
  for (const tool of tools) details[tool] = findOnPath(tool);
  const absent = tools.filter((t) => details[t] === null);
  const present = tools.filter((t) => details[t] !== null);
  return check(absent.length ? 'warn' : 'ok', false, `${present.length} of ${tools.length} present${absent.length ? `; absent: ${absent.join(' ')}` : ''}`, details);
}
