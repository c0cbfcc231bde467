// Types of prepare.mjs for the TypeScript tests that import it.
export interface CorpusPaths {
  vmlinux: string;
  text: string;
  meta: string;
  objdump: string;
}
export function cacheDir(): string;
export function findVmlinuz(): string | undefined;
export function prepareCorpus(options?: { vmlinuz?: string; log?: (message: string) => void }): Promise<CorpusPaths>;
export function readObjdump(path: string): { offsets: Uint32Array; lengths: Uint8Array };
