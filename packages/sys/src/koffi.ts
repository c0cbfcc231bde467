// koffi, as libc.ts uses it. koffi's own entry point finds its native addon by reading Node's ELF
// headers (glibc or musl), resolving the platform package and wrapping deprecated APIs: 12-20 ms of
// CPU at every start of an isola process here, against ~2 ms for the dlopen itself. So the addon is
// loaded straight from where npm puts it beside koffi (@koromix/koffi-<os>-<arch>), and checked to be
// koffi's own version; anywhere else, or if that fails, koffi's loader runs as usual.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Koffi = typeof import('koffi');

/** The node_modules that holds koffi, found the way Node looks (require.resolve costs ~4 ms cold). */
function koffiHome(from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules', 'koffi', 'package.json'))) return join(dir, 'node_modules');
    if (dirname(dir) === dir) return undefined;
  }
}

function loadAddon(here: string): Koffi | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  try {
    const home = koffiHome(dirname(here));
    if (!home) return undefined;
    const { version } = JSON.parse(readFileSync(join(home, 'koffi', 'package.json'), 'utf8')) as { version: string };
    const addon = { exports: {} as Koffi };
    process.dlopen(addon, join(home, '@koromix', 'koffi-linux-x64', 'linux_x64', 'koffi.node'));
    return addon.exports.version === version ? addon.exports : undefined;
  } catch {
    return undefined;
  }
}

const here = fileURLToPath(import.meta.url);
export const koffi: Koffi = loadAddon(here) ?? (createRequire(here)('koffi') as Koffi);
