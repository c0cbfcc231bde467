/** Where a file's cache is kept: `<cacheDir>/<prefix><size>-<mtime>-<inode>.bin`. */
export interface CacheOptions {
  cacheDir: string;
  prefix: string;
}

export interface CacheHandle {
  cacheFile: string;
  /** 'read': compiled from the cache; 'rejected': V8 refused it; 'missing': none, or not trusted. */
  status: 'read' | 'rejected' | 'missing';
}

/** Runs the CommonJS file `filename` as `mod` (its exports end up in `mod.exports`), through a V8 code cache. */
export function runCached(mod: { exports: unknown }, filename: string, options: CacheOptions): CacheHandle;

/** Writes the caches that were missing or rejected, and removes earlier builds' ones. Never throws. */
export function saveCaches(): void;
