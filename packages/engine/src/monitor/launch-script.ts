// The file the engine runs as a container's launcher (launch.ts): in the bundles, dist/launch.cjs
// (scripts/bundle.mjs rewrites this URL); unbundled, the compiled launch.js beside this file. Its own
// module, so that starting a launcher (containers/launcher.ts) loads none of what the launcher loads.
import { fileURLToPath } from 'node:url';

export const LAUNCH_SCRIPT = fileURLToPath(new URL('./launch.js', import.meta.url));
