// Where isola keeps what it builds for the user. The cache is per user (XDG Base Directory layout), so
// building the default image needs no privileges and one user's cache never feeds another's runtime.
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/** `$ISOLA_CACHE_DIR`, else `$XDG_CACHE_HOME/isola`, else `~/.cache/isola`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ISOLA_CACHE_DIR) return resolve(env.ISOLA_CACHE_DIR);
  // The XDG spec says a relative $XDG_CACHE_HOME is invalid and must be ignored.
  if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return join(env.XDG_CACHE_HOME, 'isola');
  return join(homedir(), '.cache', 'isola');
}

/** Where `buildBusyboxImage()` puts the OCI layout when no `outDir` is given. */
export function defaultImageDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), 'images', 'busybox');
}
