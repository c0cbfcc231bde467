// What every `isola img` command shares: qemu-img's exit status for a failure (1, where isola's other
// commands use 125), and the -o option string parsed into create options.
import { IsolaCommand } from '../../base.js';

export abstract class ImgCommand extends IsolaCommand {
  /** Exit status when the command fails with an error (qemu-img: 1; compare: 2). */
  protected errorStatus = 1;

  protected override async catch(error: Error & { exitCode?: number }): Promise<void> {
    await super.catch(error);
    if (process.exitCode === 125) process.exitCode = this.errorStatus;
  }
}

export interface ParsedCreateOptions {
  clusterSize?: number;
  version?: 2 | 3;
  refcountBits?: number;
  lazyRefcounts?: boolean;
  extendedL2?: boolean;
  backingFile?: string;
  backingFormat?: 'qcow2' | 'raw';
}

/** qemu-img's "-o cluster_size=64k,compat=1.1,..." (repeatable) for qcow2 images. */
export async function createOptions(values: readonly string[] | undefined): Promise<ParsedCreateOptions> {
  const { parseOptionString, parseSize, parseBool } = await import('@isola/qcow2');
  const out: ParsedCreateOptions = {};
  for (const text of values ?? []) {
    for (const [key, value] of parseOptionString(text)) {
      switch (key) {
        case 'cluster_size':
          out.clusterSize = parseSize(value, key);
          break;
        case 'compat':
          if (value !== '0.10' && value !== '1.1' && value !== 'v2' && value !== 'v3') throw new Error(`Invalid compat version: ${value}`);
          out.version = value === '0.10' || value === 'v2' ? 2 : 3;
          break;
        case 'refcount_bits':
          out.refcountBits = Number(value);
          break;
        case 'lazy_refcounts':
          out.lazyRefcounts = parseBool(value, key);
          break;
        case 'extended_l2':
          out.extendedL2 = parseBool(value, key);
          break;
        case 'backing_file':
          out.backingFile = value;
          break;
        case 'backing_fmt':
          out.backingFormat = imageFormat(value);
          break;
        default:
          throw new Error(`Invalid parameter '${key}'`);
      }
    }
  }
  return out;
}

export function imageFormat(value: string | undefined): 'qcow2' | 'raw' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'qcow2' && value !== 'raw') throw new Error(`Unknown file format '${value}' (qcow2 and raw are supported)`);
  return value;
}
